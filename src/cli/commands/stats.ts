import { readRefreshStats } from '../../dashboards/refresh-stats.js';
import { parseCommandArgs, parseIntegerOption } from '../args.js';
import type { Command } from '../../config/define-config.js';
import { renderTable } from '../table.js';

export const statsCommand: Command = {
  name: 'stats',
  summary: 'Success rate, average and p95 duration, failures per view',
  usage: 'stats [--days N] [--json]',
  async run(args, context) {
    const { catalog } = await context.config();
    const { values } = parseCommandArgs(args, {
      days: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    // Same bounds as GET /api/stats; the refresh log keeps 90 days by default anyway.
    const days = parseIntegerOption('days', values.days, { min: 1, max: 365 }) ?? 7;
    await using db = await context.connectDatabase();
    const stats = await readRefreshStats(db.sql, catalog, days);
    if (values.json) {
      context.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
      return 0;
    }
    const ms = (value: number | null) => (value === null ? '-' : `${value} ms`);
    const rows = stats.views.map((v) => [
      v.view,
      String(v.successes),
      String(v.failures),
      String(v.skipped),
      v.success_rate === null ? '-' : `${(v.success_rate * 100).toFixed(1)}%`,
      ms(v.avg_duration_ms),
      ms(v.p95_duration_ms),
      v.recent_failures[0]?.error_message ?? '',
    ]);
    context.stdout.write(`last ${days} days\n`);
    context.stdout.write(renderTable(['view', 'ok', 'failed', 'skipped', 'success', 'avg', 'p95', 'last failure'], rows));
    return 0;
  },
};
