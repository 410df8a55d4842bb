import { readViewStatuses, type ViewStatus } from '../../dashboards/view-status.js';
import { parseCommandArgs } from '../args.js';
import type { Command, CommandContext } from '../../config/define-config.js';
import { oneLine } from '../../core/errors.js';
import { createRefreshQueue } from '../../queue/refresh-queue.js';
import { nextScheduledRuns } from '../../workers/scheduler.js';
import { formatAge, formatBytes, formatStrategy } from '../../dashboards/format.js';
import { renderTable } from '../table.js';

/**
 * Next scheduled run per view, from the queue's job schedulers. Status stays useful when the
 * queue is down: the runs are then unknown (null) and a warning goes to stderr.
 */
async function readNextRuns(context: CommandContext): Promise<Map<string, Date>> {
  try {
    const backend = await context.connectQueue('producer');
    const queue = createRefreshQueue(backend);
    try {
      return await nextScheduledRuns(queue);
    } finally {
      await queue.close();
      await backend.close();
    }
  } catch (error) {
    context.stderr.write(`mvfleet status: next runs unknown: ${oneLine(error)}\n`);
    return new Map();
  }
}

/** Last strategy and keys refreshed, then what waits and whether the view captures: `targeted (3 keys), 1 pending, oldest waits 2s`, `full`, `-`. */
function strategyColumn(status: ViewStatus): string {
  const last = status.strategy === null ? null : formatStrategy(status.strategy, status.keys_refreshed);
  const pending = status.pending_keys ? `${status.pending_keys} pending` : null;
  const requests = status.pending_requests ? `${status.pending_requests} requested` : null;
  const oldest = status.oldest_pending_seconds !== null ? `oldest waits ${formatAge(status.oldest_pending_seconds)}` : null;
  const capture = status.capture.length > 0 ? 'captures' : null;
  return [last, pending, requests, oldest, capture].filter((part) => part !== null).join(', ') || '-';
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show each view: populated, rows, size, last refresh and age, last status, strategy, alerts',
  usage: 'status [--json]',
  async run(args, context) {
    const { catalog } = await context.config();
    const { values } = parseCommandArgs(args, { json: { type: 'boolean', default: false } });
    await using db = await context.connectDatabase();
    const nextRuns = await readNextRuns(context);
    const statuses = await readViewStatuses(db.sql, catalog, { nextRuns });
    if (values.json) {
      context.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
      return 0;
    }
    const rows = statuses.map((s) => [
      s.view,
      s.populated ? 'yes' : 'no',
      s.rows === null ? '-' : s.rows.toLocaleString('en-US'),
      formatBytes(s.size_bytes),
      s.age_seconds === null ? 'never' : formatAge(s.age_seconds),
      s.last_status ?? '-',
      s.mode ?? '-',
      strategyColumn(s),
      s.next_run_at ?? '-',
      s.stale ? 'STALE' : 'fresh',
      s.alerts.join('; '),
    ]);
    context.stdout.write(
      renderTable(['view', 'populated', 'rows', 'size', 'age', 'last', 'mode', 'strategy', 'next run', 'freshness', 'alerts'], rows),
    );
    return 0;
  },
};
