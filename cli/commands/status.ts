import { demoCatalog } from '../../schema/catalog.js';
import { formatAge, readViewStatuses } from '../../dashboards/view-status.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../command.js';
import { connectDatabase } from '../services.js';
import { formatBytes, renderTable } from '../table.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show each view: populated, rows, size, last refresh and age, last status, alerts',
  usage: 'status [--json]',
  async run(args, context) {
    const { values } = parseCommandArgs(args, { json: { type: 'boolean', default: false } });
    await using db = await connectDatabase(context);
    const statuses = await readViewStatuses(db.sql, demoCatalog);
    if (values.json) {
      context.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
      return 0;
    }
    const rows = statuses.map((s) => [
      s.view,
      s.populated ? 'yes' : 'no',
      s.rows === null ? '-' : s.rows.toLocaleString('en-US'),
      s.size_bytes === null ? '-' : formatBytes(s.size_bytes),
      s.age_seconds === null ? 'never' : formatAge(s.age_seconds),
      s.last_status ?? '-',
      s.mode ?? '-',
      s.next_run_at ?? '-',
      s.stale ? 'STALE' : 'fresh',
      s.alerts.join('; '),
    ]);
    context.stdout.write(
      renderTable(['view', 'populated', 'rows', 'size', 'age', 'last', 'mode', 'next run', 'freshness', 'alerts'], rows),
    );
    return 0;
  },
};
