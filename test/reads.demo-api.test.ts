import { beforeAll, describe, expect, it } from 'vitest';
import { createReader } from '../src/reads/index.js';
import { createDemoApi } from '../examples/demo/read-api.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { useTestDatabase } from './helpers/database.js';

interface Answer {
  data: Record<string, unknown> | Record<string, unknown>[] | null;
  cache: { source: string; as_of: string; age_minutes: number };
  error?: string;
}

describe('demo API (/api/demo)', () => {
  const db = useTestDatabase();
  let app: ReturnType<typeof createDemoApi>;
  let firmMonth: { firm_id: number; month: string; projects: number };

  const request = async (path: string) => {
    const response = await app.request(path);
    return { status: response.status, body: (await response.json()) as Answer };
  };

  beforeAll(async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog });
    for (const view of ['tournament_analytics_summary', 'mv_revenue_by_project_month']) {
      await executor.refresh({ view, reason: 'manual' });
    }
    app = createDemoApi({ reader: createReader({ sql: db.sql, catalog: demoCatalog }) });
    [firmMonth] = await db.sql<[typeof firmMonth]>`
      SELECT firm_id, to_char(month, 'YYYY-MM') AS month, count(*)::int AS projects
      FROM mv_revenue_by_project_month GROUP BY firm_id, month ORDER BY count(*) DESC, firm_id, month LIMIT 1`;
  });

  it('answers a tournament’s analytics from the fresh MV with snake_case columns and the cache block', async () => {
    const { status, body } = await request('/tournaments/1/analytics');
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ tournament_id: 1, total_participants: expect.any(Number), check_in_rate: expect.any(String) });
    expect(Object.keys(body.data as object)).toEqual(demoCatalog.get('tournament_analytics_summary').columns);
    const [log] = await db.sql<[{ started_at: Date }]>`
      SELECT started_at FROM mvfleet.mv_refresh_log WHERE view_name = 'tournament_analytics_summary' AND status = 'success'`;
    expect(body.cache).toEqual({ source: 'materialized', as_of: log.started_at.toISOString(), age_minutes: expect.any(Number) });
  });

  it('forces the live query with ?live=1 and returns the same row', async () => {
    const materialized = await request('/tournaments/1/analytics');
    const live = await request('/tournaments/1/analytics?live=1');
    expect(live.status).toBe(200);
    expect(live.body.cache).toMatchObject({ source: 'live', age_minutes: 0 });
    expect(live.body.data).toEqual(materialized.body.data);
  });

  it('lists a firm’s revenue rows of one month, by project', async () => {
    const { status, body } = await request(`/firms/${firmMonth.firm_id}/revenue?month=${firmMonth.month}`);
    expect(status).toBe(200);
    expect(body.cache.source).toBe('materialized');
    const rows = body.data as Record<string, unknown>[];
    expect(rows).toHaveLength(firmMonth.projects);
    for (const row of rows) expect(row).toMatchObject({ firm_id: firmMonth.firm_id, month: `${firmMonth.month}-01` });
    const projects = rows.map((row) => row.project_id as number);
    expect(projects).toEqual([...projects].sort((a, b) => a - b));

    const live = await request(`/firms/${firmMonth.firm_id}/revenue?month=${firmMonth.month}&live=1`);
    expect(live.body.cache.source).toBe('live');
    expect(live.body.data).toEqual(body.data);
  });

  it('answers 404 with an error for an id without rows', async () => {
    expect(await request('/tournaments/999999/analytics')).toEqual({ status: 404, body: { error: 'tournament 999999 not found' } });
    expect(await request('/firms/999/revenue?month=2026-03')).toEqual({ status: 404, body: { error: 'no revenue rows for firm 999 in 2026-03' } });
  });

  it.each([
    ['/tournaments/abc/analytics', /tournament id must be an integer/],
    ['/tournaments/0/analytics', /tournament id must be an integer from 1/],
    ['/tournaments/99999999999/analytics', /tournament id must be an integer/],
    ['/tournaments/1/analytics?live=yes', /live must be 1 or 0/],
    ['/firms/x/revenue?month=2026-03', /firm id must be an integer/],
    ['/firms/1/revenue', /month is required/],
    ['/firms/1/revenue?month=2026-13', /month must be YYYY-MM/],
    ['/firms/1/revenue?month=2026-03-01', /month must be YYYY-MM/],
  ])('answers 400 with an error for %s', async (path, message) => {
    const { status, body } = await request(path);
    expect(status).toBe(400);
    expect(body.error).toMatch(message);
  });
});
