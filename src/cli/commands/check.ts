import { checkCatalog, type CheckFinding } from '../../check/check-config.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../../config/define-config.js';

/** `error  view: message` or `warning view: message`. */
function findingLine(finding: CheckFinding): string {
  const where = finding.view ? `${finding.view}: ` : '';
  return `${finding.level.padEnd(6)} ${where}${finding.message}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'Check the config against the database: exit 1 on missing views, indexes or tables; warn on refresh gaps',
  usage: 'check [--json]',
  async run(args, context) {
    const { values } = parseCommandArgs(args, { json: { type: 'boolean', default: false } });
    const { catalog } = await context.config();
    await using db = await context.connectDatabase('mvfleet-check');
    const findings = await checkCatalog({ sql: db.sql, catalog });
    const errors = findings.filter((finding) => finding.level === 'error').length;
    if (values.json) {
      context.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
    } else {
      for (const finding of findings) context.stdout.write(`${findingLine(finding)}\n`);
      const counts = findings.length === 0 ? 'no problems' : `${plural(errors, 'error')}, ${plural(findings.length - errors, 'warning')}`;
      context.stdout.write(`mvfleet check: ${counts} in ${plural(catalog.views.length, 'view')}\n`);
    }
    return errors > 0 ? 1 : 0;
  },
};
