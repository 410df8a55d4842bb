import { describe, expect, it } from 'vitest';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import { runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';

describe('mvfleet refresh / worker bad input', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);
  const env = () => ({ ...backends.env(), DATABASE_URL: db.url });

  async function expectNothingEnqueued() {
    const queue = createRefreshQueue(backends.backend('producer'));
    const counts = await queue.getJobCounts();
    await queue.close();
    expect(Object.values(counts).every((count) => count === 0)).toBe(true);
  }

  it.each([
    [['refresh', 'mv_kpi_dashboard', 'no_such_view'], /unknown view "no_such_view" \(known: tournament_analytics_summary/],
    [['refresh', '--all', 'mv_kpi_dashboard'], /give view names or --all, not both/],
    [['refresh'], /name at least one view, or pass --all/],
    [['refresh', 'x"; DROP TABLE tournaments; --'], /unknown view "x"; DROP TABLE tournaments; --"/],
    [['refresh', 'mv_kpi_dashboard', '--wait', '--timeout', 'soon'], /--timeout must be an integer \(got "soon"\)/],
    [['refresh', 'mv_kpi_dashboard', '--timeout', '30'], /--timeout only applies with --wait/],
    [['worker', '--concurrency', 'many'], /--concurrency must be an integer \(got "many"\)/],
    [['worker', '--concurrency', '0'], /--concurrency must be between 1 and 64 \(got 0\)/],
  ])('%j fails with one clear line and enqueues nothing', async (args, message) => {
    const result = await runCli(args, env());
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    await expectNothingEnqueued();
    const [tournaments] = await db.sql`SELECT to_regclass('tournaments') IS NOT NULL AS present`;
    expect(tournaments!.present).toBe(true);
  });

  it('an unreachable Redis is named, and nothing is enqueued', async () => {
    const result = await runCli(['refresh', 'mv_kpi_dashboard'], {
      ...env(),
      MVFLEET_QUEUE_BACKEND: 'redis',
      REDIS_URL: 'redis://127.0.0.1:9',
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/cannot reach Redis at 127\.0\.0\.1:9/);
  });

  it('--dry-run prints the SQL and the cascade without touching any service', async () => {
    const result = await runCli(['refresh', 'mv_revenue_by_project_month', 'mv_kpi_dashboard', '--dry-run'], {
      REDIS_URL: 'redis://127.0.0.1:9',
    });
    expect(result.code).toBe(0);
    // The revenue view is stored as a table: no REFRESH statement, a diff-apply rebuild instead.
    expect(result.stdout).toContain('-- table mv_revenue_by_project_month: rebuild, applying only the rows that differ');
    expect(result.stdout).not.toContain('REFRESH MATERIALIZED VIEW CONCURRENTLY "mv_revenue_by_project_month"');
    expect(result.stdout).toContain('then: mv_revenue_by_firm_quarter');
    expect(result.stdout).toContain('REFRESH MATERIALIZED VIEW CONCURRENTLY "mv_kpi_dashboard"');
    expect(result.stdout).toContain('nothing enqueued');
    await expectNothingEnqueued();
  });
});
