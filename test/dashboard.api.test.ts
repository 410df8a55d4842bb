import { beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/core/db.js';
import { createDashboard, type RefreshLogEntry, type RefreshStats, type ViewStatus } from '../src/dashboards/index.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { TEST_TOKEN, getJson, useDashboardFixture } from './dashboard.fixture.js';
import { logRows } from './helpers/refresh-log.js';

const TOURNAMENTS = 'tournament_analytics_summary';
const REVENUE = 'mv_revenue_by_project_month';
const KPI = 'mv_kpi_dashboard';

/** The read-only JSON API and health probes answer with what the refresh log and the views hold. */
describe('dashboard JSON API', () => {
  const fixture = useDashboardFixture();
  const { db } = fixture;
  let url = '';

  beforeAll(async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    const executor = createRefreshExecutor({ sql: db.sql, catalog: fixture.catalog });
    await executor.refresh({ view: TOURNAMENTS, reason: 'manual' });
    await executor.refresh({ view: TOURNAMENTS, reason: 'manual' });
    await executor.refresh({ view: REVENUE, reason: 'event', triggerDetail: 'invoice.paid' });
    // A failure with a known message; a real one would need a broken view definition.
    await db.sql`
      INSERT INTO mvfleet.mv_refresh_log (view_name, status, mode, reason, attempt, started_at, finished_at, duration_ms, error_message, error_code)
      VALUES (${KPI}, 'failed', 'plain', 'schedule', 1, now() - interval '2 minutes', now() - interval '2 minutes' + interval '1.5 seconds',
              1500, 'canceling statement due to statement timeout', '57014')`;
    ({ url } = await fixture.start({ nextRuns: async () => new Map([[TOURNAMENTS, new Date('2030-01-01T00:00:00Z')]]) }));
  });

  it('GET /api/views lists every catalog view with the status contract fields, matching the log', async () => {
    const { status, body } = await getJson<ViewStatus[]>(`${url}/api/views`);
    expect(status).toBe(200);
    expect(body.map((view) => view.view)).toEqual(fixture.catalog.views.map((view) => view.name));
    for (const view of body) {
      for (const field of ['view', 'populated', 'rows', 'size_bytes', 'last_refresh_at', 'as_of', 'age_seconds', 'last_status', 'mode', 'next_run_at', 'stale', 'alerts']) {
        expect(view, `${view.view}.${field}`).toHaveProperty(field);
      }
    }
    const tournaments = body.find((view) => view.view === TOURNAMENTS)!;
    const successes = (await logRows(db.sql, TOURNAMENTS)).filter((row) => row.status === 'success');
    const last = successes.at(-1)!;
    const [{ count }] = await db.sql<[{ count: number }]>`SELECT count(*)::int AS count FROM tournament_analytics_summary`;
    expect(tournaments).toMatchObject({
      populated: true,
      rows: count,
      as_of: last.started_at.toISOString(),
      last_refresh_at: last.finished_at!.toISOString(),
      last_status: 'success',
      mode: last.mode,
      stale: false,
      next_run_at: '2030-01-01T00:00:00.000Z',
      alerts: [],
    });
    expect(tournaments.size_bytes).toBeGreaterThan(0);
    expect(tournaments.refreshes_24h).toBe(successes.length);

    const kpi = body.find((view) => view.view === KPI)!;
    expect(kpi).toMatchObject({ populated: false, as_of: null, last_status: 'failed', stale: true, consecutive_failures: 1, next_run_at: null });
    expect(kpi.alerts).toContain('never refreshed');
    expect(kpi.last_error).toBe('canceling statement due to statement timeout');
  });

  it('GET /api/views/:view/logs returns that view’s attempts, newest first, honouring limit', async () => {
    const rows = await logRows(db.sql, TOURNAMENTS);
    const all = await getJson<RefreshLogEntry[]>(`${url}/api/views/${TOURNAMENTS}/logs`);
    expect(all.status).toBe(200);
    expect(all.body.map((entry) => entry.id)).toEqual(rows.map((row) => row.id).reverse());
    expect(all.body.every((entry) => entry.view_name === TOURNAMENTS && entry.reason === 'manual')).toBe(true);

    const one = await getJson<RefreshLogEntry[]>(`${url}/api/views/${REVENUE}/logs?limit=1`);
    const [revenue] = await logRows(db.sql, REVENUE);
    expect(one.body).toHaveLength(1);
    expect(one.body[0]).toMatchObject({ id: revenue!.id, status: 'success', reason: 'event', trigger_detail: 'invoice.paid', duration_ms: revenue!.duration_ms });
  });

  it('GET /api/stats reports counts, success rate and durations per view from the log', async () => {
    const { status, body } = await getJson<RefreshStats>(`${url}/api/stats?days=7`);
    expect(status).toBe(200);
    expect(body.days).toBe(7);
    expect(body.views).toHaveLength(fixture.catalog.views.length);
    const rows = await logRows(db.sql);
    for (const stats of body.views) {
      const mine = rows.filter((row) => row.view_name === stats.view);
      expect(stats.successes, stats.view).toBe(mine.filter((row) => row.status === 'success').length);
      expect(stats.failures, stats.view).toBe(mine.filter((row) => row.status === 'failed').length);
    }
    const tournaments = body.views.find((stats) => stats.view === TOURNAMENTS)!;
    const durations = rows.filter((row) => row.view_name === TOURNAMENTS).map((row) => row.duration_ms!);
    expect(tournaments.success_rate).toBe(1);
    expect(tournaments.max_duration_ms).toBe(Math.max(...durations));
    expect(tournaments.avg_duration_ms).toBe(Math.round(durations.reduce((a, b) => a + b, 0) / durations.length));
    const kpi = body.views.find((stats) => stats.view === KPI)!;
    expect(kpi).toMatchObject({ failures: 1, success_rate: 0 });
    expect(kpi.recent_failures[0]).toMatchObject({ error_code: '57014' });
  });

  it('answers unknown views with 404 and bad query parameters with 400, as JSON', async () => {
    const unknown = await getJson<{ error: string }>(`${url}/api/views/no_such_view/logs`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/unknown view "no_such_view" \(known: tournament_analytics_summary, /);
    for (const query of ['limit=abc', 'limit=0', 'limit=100000', 'limit=-1']) {
      const bad = await getJson<{ error: string }>(`${url}/api/views/${TOURNAMENTS}/logs?${query}`);
      expect(bad.status, query).toBe(400);
      expect(bad.body.error).toMatch(/^limit must be/);
    }
    const badDays = await getJson<{ error: string }>(`${url}/api/stats?days=seven`);
    expect(badDays).toMatchObject({ status: 400, body: { error: 'days must be an integer (got "seven")' } });
    const noRoute = await getJson<{ error: string }>(`${url}/api/nothing-here`);
    expect(noRoute).toMatchObject({ status: 404, body: { error: 'no route GET /api/nothing-here' } });
  });

  it('GET / renders every view, its state and escapes what it shows', async () => {
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const page = await response.text();
    for (const view of fixture.catalog.views) expect(page).toContain(`data-view="${view.name}"`);
    expect(page).toMatch(/1 of 8 views need attention|\d of 8 views need attention/);
    expect(page).toContain('canceling statement due to statement timeout');
    expect(page).not.toMatch(/<(script|link)[^>]+src=["']?https?:/);
    expect(page).not.toContain('data-action="refresh"');
    // The queue reported no next run for the nightly view: the page computes it from the pattern.
    const kpiRow = page.slice(page.indexOf(`data-view="${KPI}"`), page.indexOf('</tr>', page.indexOf(`data-view="${KPI}"`)));
    expect(kpiRow).toMatch(/class="next-run"[^>]*>in (\d+ h )?\d+ [ms], 02:00 UTC</);
  });

  it('/healthz is up; /readyz checks PostgreSQL and the queue backend', async () => {
    expect(await getJson(`${url}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await getJson(`${url}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready', checks: { postgres: 'ok', queue: 'ok' } } });

    const unreachable = createDb({ url: 'postgres://postgres@127.0.0.1:9/nowhere', connectTimeoutSeconds: 1, max: 1 });
    try {
      const dashboard = createDashboard({ sql: unreachable.sql, catalog: fixture.catalog, queue: fixture.queue, dependencyTimeoutMs: 2_000, token: TEST_TOKEN });
      const response = await dashboard.app.request('/readyz');
      expect(response.status).toBe(503);
      const body = (await response.json()) as { checks: Record<string, string> };
      expect(body.checks.queue).toBe('ok');
      // Without the token the cause (host and port of the database) stays in the log.
      expect(body.checks.postgres).toBe('failed (cause in the dashboard log)');
      const withToken = await dashboard.app.request('/readyz', { headers: { Authorization: `Bearer ${TEST_TOKEN}` } });
      expect(((await withToken.json()) as { checks: Record<string, string> }).checks.postgres).toMatch(/^failed: /);
      await dashboard.close();
    } finally {
      await unreachable.close(0);
    }
  });
});
