import { UsageError } from '../../core/errors.js';
import { createProducer } from '../../producers/producer.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../../config/define-config.js';

export const emitCommand: Command = {
  name: 'emit',
  summary: 'Tell the fleet an application event happened (enqueues the views it maps to)',
  usage: 'emit <event> [--data JSON]',
  async run(args, context) {
    const { catalog } = await context.config();
    const { values, positionals } = parseCommandArgs(args, { data: { type: 'string' } }, true);
    if (positionals.length !== 1) throw new UsageError('name exactly one event (e.g. mvfleet emit invoice.paid --data \'{"firmId":1}\')');
    const event = positionals[0]!;
    catalog.event(event);
    let payload: unknown = {};
    if (values.data !== undefined) {
      try {
        payload = JSON.parse(values.data);
      } catch (error) {
        throw new UsageError(`--data is not valid JSON: ${(error as Error).message}`);
      }
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new UsageError('--data must be a JSON object');
    }
    // With DATABASE_URL the event records the keys it touches, so keyed views are refreshed
    // for those keys only; without it they are refreshed whole.
    await using db = context.env().DATABASE_URL ? await context.connectDatabase('mvfleet-emit') : undefined;
    const backend = await context.connectQueue('producer');
    const fleet = createProducer({ catalog: catalog, backend, sql: db?.sql });
    try {
      const handle = await fleet.emit(event, payload as Record<string, unknown>);
      context.stdout.write(`emitted ${event}: refresh of ${handle.views.join(', ') || '(no views)'} requested\n`);
    } finally {
      await fleet.close();
      await backend.close();
    }
    return 0;
  },
};
