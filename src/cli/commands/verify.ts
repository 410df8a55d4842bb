import { UsageError } from '../../core/errors.js';
import { NotPopulatedError, verifyView, type VerifyResult } from '../../workers/verify-view.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../../config/define-config.js';

function describe(result: VerifyResult): string {
  const rows = `${result.rows.toLocaleString('en-US')} rows`;
  if (result.differences === 0) return `${result.view}: ${rows}, no differences`;
  const parts = `${result.changed} changed, ${result.missing} missing, ${result.extra} extra`;
  const pending = result.pending > 0 ? `; ${result.pending} in keys awaiting a refresh` : '';
  const samples = result.samples.map((key) => JSON.stringify(key)).join(' ');
  return `${result.view}: ${rows}, ${result.differences} differences (${parts}${pending}); e.g. ${samples}`;
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'Compare views with their definitions; exit 1 on differences no pending refresh explains (or an unbuilt view)',
  usage: 'verify <view...> | --all [--json]',
  async run(args, context) {
    const { catalog } = await context.config();
    const { values, positionals } = parseCommandArgs(
      args,
      { all: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
      true,
    );
    if (values.all === positionals.length > 0) throw new UsageError('name one or more views, or pass --all');
    const views = values.all ? [...catalog.views] : positionals.map((name) => catalog.get(name));
    await using db = await context.connectDatabase('mvfleet-verify');
    const results: VerifyResult[] = [];
    const unpopulated: string[] = [];
    for (const view of views) {
      try {
        results.push(await verifyView(db.sql, catalog.store, view));
      } catch (error) {
        // One view without a build must not hide the others' results.
        if (!(error instanceof NotPopulatedError)) throw error;
        unpopulated.push(view.name);
        context.stderr.write(`mvfleet verify: ${error.message}\n`);
      }
    }
    context.stdout.write(values.json ? `${JSON.stringify(results, null, 2)}\n` : `${results.map(describe).join('\n')}\n`);
    return unpopulated.length > 0 || results.some((result) => result.differences > result.pending) ? 1 : 0;
  },
};
