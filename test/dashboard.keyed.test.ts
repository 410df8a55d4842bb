import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordDirtyKeys } from '../src/store/pending-requests.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import type { RefreshLogEntry, ViewStatus } from '../src/dashboards/index.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { getJson, useDashboardFixture } from './dashboard.fixture.js';
import { runCli } from './helpers/cli.js';

interface Family {
  name: string;
  type: string;
  help: string;
  metrics: { value?: string; labels?: Record<string, string> }[];
}
// The parser ships no type declarations.
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

const TOURNAMENTS = 'tournament_analytics_summary';
const REVENUE = 'mv_revenue_by_project_month';
const AHSP = 'referensi_ahsp_stats';

interface StrategyLogRow {
  id: number;
  strategy: string | null;
  keys_refreshed: number | null;
  rows_corrected: number | null;
}

/**
 * Keyed views in the dashboard: a targeted refresh, a full rebuild that corrects a change no
 * event announced, and a key still waiting show in the logs API, the status API, the page,
 * `/metrics` and the CLI, with the numbers the refresh log and `mvfleet.mv_dirty_keys` hold.
 */
describe('dashboard: strategy, keys refreshed, pending keys and drift of keyed views', () => {
  const fixture = useDashboardFixture();
  const { db } = fixture;
  let url = '';
  /** The tournaments' refreshes in order: first build, targeted, full. */
  let tournamentLog: StrategyLogRow[] = [];

  beforeAll(async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    const [announced, unannounced, drained, waiting] = (await db.sql<{ id: number }[]>`SELECT id FROM tournaments ORDER BY id LIMIT 4`).map(
      (row) => row.id,
    );
    const executor = createRefreshExecutor({ sql: db.sql, catalog: fixture.catalog });
    await executor.refresh({ view: TOURNAMENTS, reason: 'manual' });
    await executor.refresh({ view: REVENUE, reason: 'manual' });
    await executor.refresh({ view: AHSP, reason: 'manual' });

    // An announced change: its event recorded the key, a targeted refresh recomputes just that key.
    await db.sql`UPDATE tournaments SET prize_pool = prize_pool + 100 WHERE id = ${announced!}`;
    await recordDirtyKeys(db.sql, demoCatalog.store, 'prize.paid', [{ view: TOURNAMENTS, key: [announced!] }]);
    const targeted = await executor.refresh({ view: TOURNAMENTS, reason: 'event', scope: 'keys' });
    expect(targeted).toMatchObject({ status: 'success', strategy: 'targeted', keysRefreshed: 1 });

    // A change whose event never came; the next full rebuild finds it (drift) and drains one announced key.
    await db.sql`UPDATE tournaments SET prize_pool = prize_pool + 100 WHERE id = ${unannounced!}`;
    await recordDirtyKeys(db.sql, demoCatalog.store, 'match.completed', [{ view: TOURNAMENTS, key: [drained!] }]);
    const full = await executor.refresh({ view: TOURNAMENTS, reason: 'manual' });
    expect(full).toMatchObject({ status: 'success', strategy: 'full', keysRefreshed: 1, rowsCorrected: 1 });

    // One key left waiting, recorded by two events.
    await recordDirtyKeys(db.sql, demoCatalog.store, 'match.completed', [{ view: TOURNAMENTS, key: [waiting!] }]);
    await recordDirtyKeys(db.sql, demoCatalog.store, 'registration.confirmed', [{ view: TOURNAMENTS, key: [waiting!] }]);

    tournamentLog = await db.sql<StrategyLogRow[]>`
      SELECT id, strategy, keys_refreshed, rows_corrected FROM mvfleet.mv_refresh_log WHERE view_name = ${TOURNAMENTS} ORDER BY id`;
    expect(tournamentLog.map((row) => row.strategy)).toEqual(['full', 'targeted', 'full']);
    ({ url } = await fixture.start());
  });

  it('GET /api/views/:view/logs shows each refresh’s strategy, keys refreshed and rows corrected', async () => {
    const { status, body } = await getJson<RefreshLogEntry[]>(`${url}/api/views/${TOURNAMENTS}/logs`);
    expect(status).toBe(200);
    const [first] = tournamentLog;
    expect(body.map(({ id, strategy, keys_refreshed, rows_corrected }) => ({ id, strategy, keys_refreshed, rows_corrected }))).toEqual([
      { id: tournamentLog[2]!.id, strategy: 'full', keys_refreshed: 1, rows_corrected: 1 },
      { id: tournamentLog[1]!.id, strategy: 'targeted', keys_refreshed: 1, rows_corrected: null },
      { id: first!.id, strategy: 'full', keys_refreshed: 0, rows_corrected: first!.rows_corrected },
    ]);

    const [ahsp] = (await getJson<RefreshLogEntry[]>(`${url}/api/views/${AHSP}/logs`)).body;
    expect(ahsp).toMatchObject({ strategy: 'full', keys_refreshed: null, rows_corrected: null });
  });

  it('GET /api/views reports storage, last strategy, keys refreshed, pending keys and the drift alert', async () => {
    const { body } = await getJson<ViewStatus[]>(`${url}/api/views`);
    const byView = new Map(body.map((status) => [status.view, status]));
    expect(byView.get(TOURNAMENTS)).toMatchObject({
      storage: 'table',
      strategy: 'full',
      keys_refreshed: 1,
      pending_keys: 1,
      rows_corrected: 1,
    });
    expect(byView.get(TOURNAMENTS)!.alerts).toContain('last full rebuild corrected 1 rows no event announced');
    expect(byView.get(REVENUE)).toMatchObject({ storage: 'table', strategy: 'full', keys_refreshed: 0, pending_keys: 0 });
    expect(byView.get(AHSP)).toMatchObject({
      storage: 'materialized',
      strategy: 'full',
      keys_refreshed: null,
      pending_keys: null,
      rows_corrected: null,
    });
  });

  it('the freshness page shows per view its storage, last strategy with keys, pending keys and the drift alert', async () => {
    const page = await (await fetch(`${url}/`)).text();
    const row = (view: string) => {
      const match = new RegExp(`<tr class="view [^"]*" data-view="${view}"[\\s\\S]*?</tr>`).exec(page);
      if (!match) throw new Error(`no row for ${view}`);
      return match[0];
    };
    const cell = (view: string) => /<td class="strategy"[\s\S]*?<\/td>/.exec(row(view))![0];

    const tournaments = cell(TOURNAMENTS);
    expect(tournaments).toContain('data-storage="table"');
    expect(tournaments).toContain('data-strategy="full"');
    expect(tournaments).toContain('data-keys-refreshed="1"');
    expect(tournaments).toContain('data-pending-keys="1"');
    expect(tournaments).toMatch(/>table<\/span> full \(1 key\)<small class="pending"[^>]*>1 key pending<\/small>/);
    expect(row(TOURNAMENTS)).toContain('<li>last full rebuild corrected 1 rows no event announced</li>');

    expect(cell(REVENUE)).toMatch(/>table<\/span> full \(0 keys\)<small>no keys pending<\/small>/);
    const ahsp = cell(AHSP);
    expect(ahsp).toMatch(/>MV<\/span> full<small class="tag" title="triggers record every write to ahsp_referensi, rincian_referensi">capture<\/small><\/td>/);
    expect(ahsp).toContain('data-pending-keys=""');
    expect(cell('mv_kpi_dashboard')).toMatch(/>MV<\/span> <span class="muted">–<\/span><\/td>/);

    // The latest attempts list names the strategy of each run.
    const targetedRun = new RegExp(`<tr data-log-id="${tournamentLog[1]!.id}"[\\s\\S]*?</tr>`).exec(page)![0];
    expect(targetedRun).toContain('concurrent · targeted (1 key)');
  });

  describe('/metrics', () => {
    let families: Family[] = [];
    const family = (name: string) => {
      const found = families.find((candidate) => candidate.name === name);
      if (!found) throw new Error(`no metric family ${name}`);
      return found;
    };
    const byLabels = (name: string, key: (labels: Record<string, string>) => string) =>
      new Map(family(name).metrics.map((sample) => [key(sample.labels!), Number(sample.value)]));

    beforeAll(async () => {
      families = parsePrometheus(await (await fetch(`${url}/metrics`)).text());
    });

    it('counts successful refreshes by view and strategy, leaving mvfleet_refreshes_total’s labels as they were', async () => {
      const strategies = family('mvfleet_refreshes_by_strategy_total');
      expect(strategies.type).toBe('COUNTER');
      expect(strategies.help).toMatch(/by view and strategy: targeted .* or full/);
      const counts = byLabels('mvfleet_refreshes_by_strategy_total', (labels) => `${labels.view} ${labels.strategy}`);
      expect(counts.get(`${TOURNAMENTS} targeted`)).toBe(1);
      expect(counts.get(`${TOURNAMENTS} full`)).toBe(2);
      expect(counts.get(`${REVENUE} targeted`)).toBe(0);
      expect(counts.get(`${REVENUE} full`)).toBe(1);
      expect(counts.get(`${AHSP} full`)).toBe(1);
      expect(counts.has(`${AHSP} targeted`)).toBe(false);
      expect(counts.get('mv_kpi_dashboard full')).toBe(0);

      for (const sample of family('mvfleet_refreshes_total').metrics) {
        expect(Object.keys(sample.labels!).sort()).toEqual(['mode', 'reason', 'status', 'view']);
      }
    });

    it('mvfleet_keys_refreshed_total and mvfleet_rows_corrected_total sum the log per view', async () => {
      expect(family('mvfleet_keys_refreshed_total')).toMatchObject({ type: 'COUNTER', help: expect.stringMatching(/sum of keys_refreshed/) });
      expect(family('mvfleet_rows_corrected_total')).toMatchObject({ type: 'COUNTER', help: expect.stringMatching(/sum of rows_corrected/) });
      const keys = byLabels('mvfleet_keys_refreshed_total', (labels) => labels.view!);
      expect(keys).toEqual(new Map([[TOURNAMENTS, 2], [REVENUE, 0]]));

      const corrected = byLabels('mvfleet_rows_corrected_total', (labels) => labels.view!);
      const [revenue] = await db.sql<[{ rows_corrected: number | null }]>`
        SELECT rows_corrected FROM mvfleet.mv_refresh_log WHERE view_name = ${REVENUE} AND status = 'success'`;
      expect(corrected).toEqual(
        new Map([
          [TOURNAMENTS, (tournamentLog[0]!.rows_corrected ?? 0) + 1],
          [REVENUE, revenue.rows_corrected ?? 0],
        ]),
      );
    });

    it('mvfleet_pending_keys counts distinct keys waiting in mv_dirty_keys per keyed view', () => {
      expect(family('mvfleet_pending_keys')).toMatchObject({ type: 'GAUGE', help: expect.stringMatching(/mv_dirty_keys/) });
      expect(byLabels('mvfleet_pending_keys', (labels) => labels.view!)).toEqual(new Map([[TOURNAMENTS, 1], [REVENUE, 0]]));
    });
  });

  it('mvfleet logs and status show the strategy and keys', async () => {
    const env = { DATABASE_URL: db.url };
    const logs = await runCli(['logs', '--view', TOURNAMENTS, '--limit', '2', '--json'], env);
    expect(logs.code).toBe(0);
    expect(JSON.parse(logs.stdout)).toMatchObject([
      { strategy: 'full', keys_refreshed: 1, rows_corrected: 1 },
      { strategy: 'targeted', keys_refreshed: 1, rows_corrected: null },
    ]);
    const table = await runCli(['logs', '--view', TOURNAMENTS, '--limit', '2'], env);
    expect(table.stdout).toMatch(/strategy\s+keys\s+corrected/);
    expect(table.stdout).toMatch(/success\s+concurrent\s+event\s+1\s+\d+ ms\s+\d+\s+targeted\s+1\s+-/);

    const status = await runCli(['status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`${TOURNAMENTS}\\s.*\\sfull \\(1 key\\), 1 pending, oldest waits [^,]+, captures\\s`));
    expect(status.stdout).toMatch(new RegExp(`${AHSP}\\s.*\\splain\\s+full, captures\\s`));
  });
});
