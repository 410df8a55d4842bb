import { readRefreshLogs } from '../../dashboards/refresh-logs.js';
import { parseCommandArgs, parseIntegerOption } from '../args.js';
import type { Command } from '../../config/define-config.js';
import { renderTable } from '../table.js';

const countOrDash = (value: number | null) => (value === null ? '-' : String(value));

export const logsCommand: Command = {
  name: 'logs',
  summary: 'List refresh attempts, newest first',
  usage: 'logs [--view V] [--limit N] [--json]',
  async run(args, context) {
    const { catalog } = await context.config();
    const { values } = parseCommandArgs(args, {
      view: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const view = values.view === undefined ? undefined : catalog.get(values.view).name;
    const limit = parseIntegerOption('limit', values.limit, { min: 1, max: 10_000 }) ?? 20;
    await using db = await context.connectDatabase();
    const entries = await readRefreshLogs(db.sql, catalog.store, { view, limit });
    if (values.json) {
      context.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      return 0;
    }
    const rows = entries.map((e) => [
      String(e.id),
      e.started_at,
      e.view_name,
      e.status,
      e.mode ?? '-',
      `${e.reason}${e.trigger_detail ? ` (${e.trigger_detail})` : ''}`,
      String(e.attempt),
      e.duration_ms === null ? '-' : `${e.duration_ms} ms`,
      countOrDash(e.rows_after),
      e.strategy ?? '-',
      countOrDash(e.keys_refreshed),
      countOrDash(e.rows_corrected),
      e.error_message ? `${e.error_code ? `[${e.error_code}] ` : ''}${e.error_message}` : '',
    ]);
    const headers = ['id', 'started', 'view', 'status', 'mode', 'reason', 'try', 'duration', 'rows', 'strategy', 'keys', 'corrected', 'error'];
    context.stdout.write(renderTable(headers, rows));
    return 0;
  },
};
