import { createRequire } from 'node:module';
import { Counter, Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { REFRESH_DURATION_BUCKETS } from '../src/dashboards/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { useDashboardFixture } from './dashboard.fixture.js';

interface Family {
  name: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string> }[];
}
// The parser ships no type declarations.
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

const TOURNAMENTS = 'tournament_analytics_summary';
const AHSP = 'referensi_ahsp_stats';
/** An MV: its first refresh (unpopulated) is plain, the next concurrent. The tournament view is a table. */
const BUDGET = 'mv_budget_consolidation';

/** `/metrics` is valid Prometheus text and its refresh series agree with the refresh log. */
describe('dashboard /metrics', () => {
  const fixture = useDashboardFixture();
  const { db } = fixture;
  let text = '';
  let families: Family[] = [];

  beforeAll(async () => {
    const executor = createRefreshExecutor({ sql: db.sql, catalog: fixture.catalog });
    await executor.refresh({ view: TOURNAMENTS, reason: 'manual' });
    await executor.refresh({ view: TOURNAMENTS, reason: 'schedule', triggerDetail: 'hourly' });
    await executor.refresh({ view: AHSP, reason: 'event', triggerDetail: 'import.finished' });
    await executor.refresh({ view: BUDGET, reason: 'manual' });
    await executor.refresh({ view: BUDGET, reason: 'schedule', triggerDetail: 'nightly' });
    // Durations on both sides of bucket bounds (1 s, 2.5 s) and a skipped attempt without one.
    await db.sql`
      INSERT INTO mvfleet.mv_refresh_log (view_name, status, mode, reason, attempt, started_at, finished_at, duration_ms, error_message)
      VALUES (${AHSP}, 'failed', 'plain', 'schedule', 1, now() - interval '1 hour', now() - interval '1 hour', 1000, 'lock timeout'),
             (${AHSP}, 'failed', 'plain', 'schedule', 2, now() - interval '50 minutes', now() - interval '50 minutes', 1001, 'lock timeout'),
             (${AHSP}, 'success', 'plain', 'api', 1, now() - interval '40 minutes', now() - interval '40 minutes', 2500, null),
             (${AHSP}, 'skipped', null, 'event', 1, now() - interval '30 minutes', now() - interval '30 minutes', null, null),
             (${AHSP}, 'running', 'plain', 'api', 1, now(), null, null, null)`;
    const registry = new Registry();
    new Counter({ name: 'mvfleet_reads_total', help: 'reads by source', labelNames: ['view', 'source'], registers: [registry] })
      .labels({ view: TOURNAMENTS, source: 'materialized' })
      .inc(3);
    await fixture.queue.add('refresh', { view: TOURNAMENTS, reason: 'api', requestedAt: new Date().toISOString() }, { delay: 60_000 });
    const { url } = await fixture.start({ registry });
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    text = await response.text();
    families = parsePrometheus(text);
  });

  const family = (name: string) => {
    const found = families.find((candidate) => candidate.name === name);
    if (!found) throw new Error(`no metric family ${name} in:\n${text}`);
    return found;
  };

  it('parses as Prometheus text with refresh, staleness, queue and read metrics', () => {
    expect(family('mvfleet_refreshes_total').type).toBe('COUNTER');
    expect(family('mvfleet_refresh_duration_seconds').type).toBe('HISTOGRAM');
    expect(family('mvfleet_view_staleness_seconds').type).toBe('GAUGE');
    expect(family('mvfleet_queue_jobs').type).toBe('GAUGE');
    expect(family('mvfleet_reads_total').metrics).toEqual([{ value: '3', labels: { view: TOURNAMENTS, source: 'materialized' } }]);
  });

  it('mvfleet_refreshes_total equals the finished attempts in the log, by view, status, reason and mode', async () => {
    const expected = await db.sql<{ view: string; status: string; reason: string; mode: string; count: number }[]>`
      SELECT view_name AS view, status, reason, coalesce(mode, 'none') AS mode, count(*)::int AS count
      FROM mvfleet.mv_refresh_log WHERE status <> 'running' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`;
    const actual = family('mvfleet_refreshes_total')
      .metrics.map((sample) => ({ ...(sample.labels as { view: string; status: string; reason: string; mode: string }), count: Number(sample.value) }))
      .sort((a, b) => `${a.view} ${a.status} ${a.reason} ${a.mode}`.localeCompare(`${b.view} ${b.status} ${b.reason} ${b.mode}`));
    expect(actual).toEqual(expected.map((row) => ({ view: row.view, status: row.status, reason: row.reason, mode: row.mode, count: row.count })));
    expect(expected.some((row) => row.status === 'skipped' && row.mode === 'none')).toBe(true);
  });

  it('the duration histogram counts each attempt in the right cumulative bucket', async () => {
    const line = (labels: string) => {
      const match = new RegExp(`^mvfleet_refresh_duration_seconds_${labels} (\\S+)$`, 'm').exec(text);
      if (!match) throw new Error(`no sample mvfleet_refresh_duration_seconds_${labels}`);
      return Number(match[1]);
    };
    const failed = 'view="referensi_ahsp_stats",status="failed",mode="plain"';
    expect(line(`bucket\\{${failed},le="1"\\}`)).toBe(1);
    expect(line(`bucket\\{${failed},le="2.5"\\}`)).toBe(2);
    expect(line(`bucket\\{${failed},le="\\+Inf"\\}`)).toBe(2);
    expect(line(`count\\{${failed}\\}`)).toBe(2);
    expect(line(`sum\\{${failed}\\}`)).toBeCloseTo(2.001, 6);

    // The first refresh of an unpopulated MV is plain, the second concurrent: one series each.
    const [{ count, sum }] = await db.sql<[{ count: number; sum: number }]>`
      SELECT count(*)::int AS count, sum(duration_ms)::float8 / 1000 AS sum FROM mvfleet.mv_refresh_log
      WHERE view_name = ${BUDGET} AND status = 'success' AND mode = 'concurrent'`;
    expect(count).toBe(1);
    expect(line(`count\\{view="${BUDGET}",status="success",mode="plain"\\}`)).toBe(1);
    const ok = `view="${BUDGET}",status="success",mode="concurrent"`;
    expect(line(`count\\{${ok}\\}`)).toBe(count);
    expect(line(`sum\\{${ok}\\}`)).toBeCloseTo(sum, 6);
    const buckets = REFRESH_DURATION_BUCKETS.map((le) => line(`bucket\\{${ok},le="${le}"\\}`));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  });

  it('staleness is the age of the last successful refresh; never-refreshed views are flagged stale', async () => {
    const staleness = new Map(family('mvfleet_view_staleness_seconds').metrics.map((sample) => [sample.labels!.view, Number(sample.value)]));
    const [{ age }] = await db.sql<[{ age: number }]>`
      SELECT extract(epoch FROM now() - max(started_at))::float8 AS age FROM mvfleet.mv_refresh_log
      WHERE view_name = ${TOURNAMENTS} AND status = 'success'`;
    expect(staleness.get(TOURNAMENTS)).toBeGreaterThan(0);
    expect(staleness.get(TOURNAMENTS)).toBeLessThanOrEqual(age);
    expect(staleness.has('mv_kpi_dashboard')).toBe(false);
    const stale = new Map(family('mvfleet_view_stale').metrics.map((sample) => [sample.labels!.view, sample.value]));
    expect(stale.get(TOURNAMENTS)).toBe('0');
    expect(stale.get('mv_kpi_dashboard')).toBe('1');
    expect(stale.size).toBe(fixture.catalog.views.length);
  });

  it('queue jobs by state come from the queue', () => {
    const jobs = new Map(family('mvfleet_queue_jobs').metrics.map((sample) => [sample.labels!.state, Number(sample.value)]));
    expect(jobs.get('delayed')).toBe(1);
    expect(jobs.get('active')).toBe(0);
  });

  it('includes Node process metrics when the dashboard creates its own registry', async () => {
    const { url } = await fixture.start();
    const own = parsePrometheus(await (await fetch(`${url}/metrics`)).text()).map((entry) => entry.name);
    expect(own).toContain('process_cpu_user_seconds_total');
    expect(own).toContain('nodejs_eventloop_lag_seconds');
    expect(own).toContain('mvfleet_refreshes_total');
  });
});
