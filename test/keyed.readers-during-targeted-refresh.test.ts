import { describe, expect, it } from 'vitest';
import { seededRandom } from '../bench/stats.js';
import type { Sql } from '../src/core/db.js';
import type { KeyTuple } from '../src/catalog/event-keys.js';
import { recordDirtyKeys } from '../src/store/pending-requests.js';
import { createReader, type Reader } from '../src/reads/reader.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { useTestDatabase } from './helpers/database.js';
import { viewAndReference } from './helpers/reference-views.js';

const TOURNAMENTS = 'tournament_analytics_summary';
const REVENUE = 'mv_revenue_by_project_month';

type Row = Record<string, unknown>;

/**
 * A row as a reader saw it. Each write to a key sets two source columns (in two tables) to the
 * batch's version in one transaction, and adds one source row counted by two view columns: a
 * row computed from half a write shows two versions, which `problem` names.
 */
interface Observed {
  version: number;
  /** Writes the row reflects (0 before the first). */
  writes: number;
  problem: string | null;
}

/** One keyed view under test: how its rows are read, checked and written. Keys travel as text. */
interface Scenario {
  view: string;
  /** Keys that exist from the start to the end. */
  stable: string[];
  /** Every row of the view, by key, in one SELECT. */
  snapshot(): Promise<Map<string, Row>>;
  /** One row through `reader.get`. */
  get(reader: Reader, key: string): Promise<{ row: Row | null; source: string }>;
  /** Reads a stable key's row against its row in `baseline` (version 0); ephemeral keys are checked alone. */
  observe(key: string, row: Row, baseline: Map<string, Row>): Observed;
  /**
   * In one transaction: writes version `v` to `keys`, creates an ephemeral key (reported through
   * `created` before the commit) and/or removes one.
   */
  write(v: number, keys: string[], change: { create: boolean; remove: string | null }, created: (key: string) => void): Promise<void>;
  tuple(key: string): KeyTuple;
}

/** Numeric columns arrive as decimal text; differences are taken in cents so they are exact. */
const cents = (value: unknown) => Math.round(Number(value) * 100);
const diff = (row: Row, base: Row, column: string) => (cents(row[column]) - cents(base[column])) / 100;

/** Tournaments: version in `prize_pool` and a marker payout; writes are checked-in registrations. */
async function tournamentScenario(sql: Sql): Promise<Scenario> {
  const markers = new Map(
    (await sql<{ id: number; tournament_id: number }[]>`
      INSERT INTO prize_transactions (tournament_id, amount, status)
      SELECT id, 0, 'completed' FROM tournaments ORDER BY id RETURNING id, tournament_id`).map((row) => [String(row.tournament_id), row.id]),
  );
  await sql`UPDATE tournaments SET prize_pool = 0`;
  let user = 50_000_000;
  return {
    view: TOURNAMENTS,
    stable: [...markers.keys()],
    snapshot: async () =>
      new Map(
        (await sql<Row[]>`
          SELECT tournament_id, prize_pool_total, prizes_distributed, total_participants, checked_in_count FROM ${sql(TOURNAMENTS)}`
        ).map((row) => [String(row.tournament_id), row]),
      ),
    async get(reader, key) {
      const { data, cache } = await reader.get(TOURNAMENTS, Number(key));
      return { row: data, source: cache.source };
    },
    observe(key, row, baseline) {
      const version = cents(row.prize_pool_total) / 100;
      const base = baseline.get(key) ?? { prizes_distributed: 0, total_participants: 0, checked_in_count: 0 };
      const writes = diff(row, base, 'total_participants');
      const problem =
        diff(row, base, 'prizes_distributed') !== version
          ? `prize_pool_total ${version} but prizes_distributed ${String(row.prizes_distributed)}`
          : diff(row, base, 'checked_in_count') !== writes
            ? `total_participants ${String(row.total_participants)} but checked_in_count ${String(row.checked_in_count)}`
            : null;
      return { version, writes, problem };
    },
    async write(v, keys, change, created) {
      const ids = keys.map(Number);
      const firstUser = user;
      user += ids.length;
      await sql.begin(async (tx) => {
        await tx`UPDATE tournaments SET prize_pool = ${v} WHERE id = ANY(${ids}::int[])`;
        await tx`UPDATE prize_transactions SET amount = ${v} WHERE id = ANY(${keys.map((key) => markers.get(key)!)}::int[])`;
        await tx`INSERT INTO registrations (tournament_id, user_id, status, checked_in)
                 SELECT id, ${firstUser}::int + ord::int, 'confirmed', true FROM unnest(${ids}::int[]) WITH ORDINALITY AS k(id, ord)`;
        if (change.create) {
          const [t] = await tx<[{ id: number }]>`
            INSERT INTO tournaments (name, game, status, prize_pool) VALUES ('Pop-up', 'chess', 'live', ${v}) RETURNING id`;
          await tx`INSERT INTO prize_transactions (tournament_id, amount, status) VALUES (${t.id}, ${v}, 'completed')`;
          created(String(t.id));
        }
        if (change.remove) await tx`DELETE FROM tournaments WHERE id = ${Number(change.remove)}`;
      });
    },
    tuple: (key) => [Number(key)],
  };
}

/**
 * Revenue per (project, month): version in a marker invoice's paid amount and a marker
 * expense's amount; writes are approved one-hour entries at rate 10. Ephemeral keys are
 * project months of 2027, made of one expense.
 */
async function revenueScenario(sql: Sql): Promise<Scenario> {
  const keyOf = (row: Row) => `${String(row.project_id)}|${String(row.month)}`;
  const keys = await sql<{ project_id: number; month: string }[]>`
    SELECT project_id, month::text FROM ${sql(REVENUE)} ORDER BY project_id, month`;
  const projects = keys.map((key) => key.project_id);
  const months = keys.map((key) => key.month);
  const invoices = await sql<{ id: number; project_id: number; month: string }[]>`
    INSERT INTO invoices (project_id, invoice_number, status, issued_on, total_amount, paid_amount, paid_on)
    SELECT p, 'MARK-' || p || '-' || m, 'paid', m, 0, 0, m FROM unnest(${projects}::int[], ${months}::date[]) AS k(p, m)
    RETURNING id, project_id, paid_on::text AS month`;
  const expenses = await sql<{ id: number; project_id: number; month: string }[]>`
    INSERT INTO expenses (project_id, incurred_on, category, amount, status)
    SELECT p, m, 'marker', 0, 'approved' FROM unnest(${projects}::int[], ${months}::date[]) AS k(p, m)
    RETURNING id, project_id, incurred_on::text AS month`;
  const invoiceOf = new Map(invoices.map((row) => [keyOf(row), row.id]));
  const expenseOf = new Map(expenses.map((row) => [keyOf(row), row.id]));
  const split = (key: string) => key.split('|') as [string, string];
  return {
    view: REVENUE,
    stable: keys.map(keyOf),
    snapshot: async () =>
      new Map(
        (await sql<Row[]>`
          SELECT project_id, month::text, total_revenue, expense_cost, total_hours, labor_cost FROM ${sql(REVENUE)}`
        ).map((row) => [keyOf(row), row]),
      ),
    async get(reader, key) {
      const [project, month] = split(key);
      const { data, cache } = await reader.get(REVENUE, { project_id: Number(project), month });
      return { row: data, source: cache.source };
    },
    observe(key, row, baseline) {
      const base = baseline.get(key) ?? { total_revenue: 0, expense_cost: 0, total_hours: 0, labor_cost: 0 };
      const version = diff(row, base, 'total_revenue');
      const writes = diff(row, base, 'total_hours');
      const problem = !baseline.has(key)
        ? null
        : diff(row, base, 'expense_cost') !== version
          ? `total_revenue ${String(row.total_revenue)} but expense_cost ${String(row.expense_cost)}`
          : diff(row, base, 'labor_cost') !== 10 * writes
            ? `total_hours ${String(row.total_hours)} but labor_cost ${String(row.labor_cost)}`
            : null;
      return { version, writes, problem };
    },
    async write(v, keys, change, created) {
      const [ps, ms] = [keys.map((key) => Number(split(key)[0])), keys.map((key) => split(key)[1])];
      await sql.begin(async (tx) => {
        await tx`UPDATE invoices SET paid_amount = ${v} WHERE id = ANY(${keys.map((key) => invoiceOf.get(key)!)}::int[])`;
        await tx`UPDATE expenses SET amount = ${v} WHERE id = ANY(${keys.map((key) => expenseOf.get(key)!)}::int[])`;
        await tx`INSERT INTO time_entries (project_id, user_id, task_id, entry_date, hours, hourly_rate, is_billable, status, approved_at)
                 SELECT k.p, (SELECT min(u.id) FROM users u JOIN projects pr ON pr.firm_id = u.firm_id WHERE pr.id = k.p),
                        1, k.m, 1, 10, true, 'approved', now()
                 FROM unnest(${ps}::int[], ${ms}::date[]) AS k(p, m)`;
        if (change.create) {
          const [e] = await tx<[{ project_id: number; month: string }]>`
            INSERT INTO expenses (project_id, incurred_on, category, amount, status)
            VALUES ((SELECT id FROM projects ORDER BY id OFFSET ${v % 24} LIMIT 1), make_date(2027, ${1 + (Math.floor(v / 24) % 12)}, 1),
                    'pop-up', 5, 'approved')
            RETURNING project_id, incurred_on::text AS month`;
          created(keyOf(e));
        }
        if (change.remove) {
          const [project, month] = split(change.remove);
          await tx`DELETE FROM expenses WHERE project_id = ${Number(project)} AND incurred_on = ${month}::date AND category = 'pop-up'`;
        }
      });
    },
    tuple: (key) => [Number(split(key)[0]), split(key)[1]],
  };
}

/** The version a key must show in a snapshot taken after batch `latest`: its last write at or before it. */
const versionAt = (history: readonly number[], latest: number) => history.findLast((v) => v <= latest) ?? 0;

/**
 * Runs `batches` targeted refreshes of the scenario's view, each after one transaction that
 * writes a random set of keys (a batch in ten writes 30-90% of the most keys a targeted
 * refresh accepts), while two pollers read the whole view and one `reader.get`s random keys.
 * Returns every problem a reader saw.
 */
async function refreshUnderReaders(sql: Sql, scenario: Scenario, batches: number, seed: number) {
  const random = seededRandom(seed);
  const pick = (count: number) => Math.floor(random() * count);
  const executor = createRefreshExecutor({ sql, catalog: demoCatalog });
  const reader = createReader({ sql, catalog: demoCatalog, freshnessCacheMs: 0 });
  const view = demoCatalog.get(scenario.view);
  const baseline = await scenario.snapshot();
  const history = new Map(scenario.stable.map((key) => [key, [] as number[]]));
  const ephemeral = new Map<string, { created: number; removed?: number }>();
  const problems: string[] = [];
  const seen = { snapshots: 0, gets: 0, livePending: 0 };
  let done = false;

  const check = (where: string, key: string, row: Row): Observed => {
    const observed = scenario.observe(key, row, baseline);
    const versions = history.get(key);
    if (observed.problem) problems.push(`${where}: ${key} is torn: ${observed.problem}`);
    else if (versions && observed.writes !== (observed.version === 0 ? 0 : versions.indexOf(observed.version) + 1)) {
      problems.push(`${where}: ${key} shows version ${observed.version} with ${observed.writes} writes (versions ${versions.join(',')})`);
    }
    return observed;
  };
  const snapshotPoller = async (name: string) => {
    for (; !done; seen.snapshots++) {
      const rows = await scenario.snapshot();
      const where = `${name} poll ${seen.snapshots}`;
      let latest = 0;
      const versions = new Map<string, number>();
      for (const key of scenario.stable) {
        const row = rows.get(key);
        if (!row) {
          problems.push(`${where}: ${key} is missing`);
          continue;
        }
        versions.set(key, check(where, key, row).version);
        latest = Math.max(latest, versions.get(key)!);
      }
      // Batches commit in order, each in one transaction: a snapshot is the state after one batch.
      for (const [key, version] of versions) {
        const expected = versionAt(history.get(key)!, latest);
        if (version !== expected) problems.push(`${where}: ${key} at version ${version}, expected ${expected} after batch ${latest}`);
      }
      for (const [key, life] of ephemeral) {
        const present = life.created <= latest && !(life.removed !== undefined && life.removed <= latest);
        if (rows.has(key) !== present) problems.push(`${where}: ephemeral ${key} ${present ? 'missing' : 'present'} after batch ${latest}`);
      }
      for (const key of rows.keys()) if (!history.has(key) && !ephemeral.has(key)) problems.push(`${where}: unknown key ${key}`);
    }
  };
  const getPoller = async () => {
    const last = new Map<string, number>();
    const which = seededRandom(seed + 1);
    for (; !done; seen.gets++) {
      const key = scenario.stable[Math.floor(which() * scenario.stable.length)]!;
      const { row, source } = await scenario.get(reader, key);
      const where = `get ${seen.gets} (${source})`;
      if (source === 'live_pending') seen.livePending++;
      if (!row) {
        problems.push(`${where}: ${key} is missing`);
        continue;
      }
      const { version } = check(where, key, row);
      if (version < (last.get(key) ?? 0)) problems.push(`${where}: ${key} went back from version ${last.get(key)} to ${version}`);
      last.set(key, version);
    }
  };
  const pollers = [snapshotPoller('a'), snapshotPoller('b'), getPoller()];

  const outcomes: string[] = [];
  const mostKeys = Math.floor(view.keyed!.fullRebuildShare * baseline.size) - 2;
  try {
    for (let v = 1; v <= batches; v++) {
      const size = v % 10 === 0 ? Math.ceil(mostKeys * (0.3 + 0.6 * random())) : 1 + pick(5);
      const keys = new Set<string>();
      while (keys.size < size) keys.add(scenario.stable[pick(scenario.stable.length)]!);
      for (const key of keys) history.get(key)!.push(v);
      const alive = [...ephemeral].filter(([, life]) => life.removed === undefined).map(([key]) => key);
      const remove = alive.length > 0 && pick(4) === 0 ? alive[pick(alive.length)]! : null;
      if (remove) ephemeral.get(remove)!.removed = v;
      const dirty = [...keys, ...(remove ? [remove] : [])];
      await scenario.write(v, [...keys], { create: pick(4) === 0, remove }, (key) => {
        ephemeral.set(key, { created: v });
        dirty.push(key);
      });
      await recordDirtyKeys(sql, demoCatalog.store, 'test.batch', dirty.map((key) => ({ view: scenario.view, key: scenario.tuple(key) })));
      const outcome = await executor.refresh({ view: scenario.view, reason: 'event', scope: 'keys' });
      if (outcome.status !== 'success' || outcome.strategy !== 'targeted' || outcome.keysRefreshed !== dirty.length) {
        outcomes.push(`batch ${v} (${dirty.length} keys): ${JSON.stringify(outcome)}`);
      }
    }
  } finally {
    done = true;
    await Promise.all(pollers);
    await reader.close();
  }
  return { problems, outcomes, seen };
}

/**
 * Issue 10: a targeted refresh deletes and re-inserts its keys' rows in one transaction. A
 * reader polling the view meanwhile never misses a key that exists before and after, never
 * sees a key half updated, and sees every refresh's keys change together.
 */
describe('readers during targeted refreshes', () => {
  const db = useTestDatabase({ max: 12 });

  it('never miss a key that exists before and after, nor see one half updated', async () => {
    const seed = Date.now() % 100_000;
    await seedDemo({ sql: db.sql, scale: 'small' });
    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog });
    await executor.refresh({ view: REVENUE, reason: 'manual' });
    // Markers are written before the full refreshes that every version is measured from.
    const scenarios = [await tournamentScenario(db.sql), await revenueScenario(db.sql)];
    for (const scenario of scenarios) await executor.refresh({ view: scenario.view, reason: 'manual' });

    for (const [scenario, batches] of [[scenarios[0]!, 210], [scenarios[1]!, 60]] as const) {
      const context = `${scenario.view}, seed ${seed}`;
      const { problems, outcomes, seen } = await refreshUnderReaders(db.sql, scenario, batches, seed);
      expect(outcomes, context).toEqual([]);
      expect(problems.slice(0, 20), `${context}: ${problems.length} problems in ${JSON.stringify(seen)}`).toEqual([]);
      expect(seen.snapshots, context).toBeGreaterThan(20);
      expect(seen.gets, context).toBeGreaterThan(20);

      const [log] = await db.sql<[{ targeted: number; other: number; keys: number }]>`
        SELECT count(*) FILTER (WHERE strategy = 'targeted')::int AS targeted,
               count(*) FILTER (WHERE strategy IS DISTINCT FROM 'targeted' AND reason = 'event')::int AS other,
               COALESCE(sum(keys_refreshed) FILTER (WHERE strategy = 'targeted'), 0)::int AS keys
        FROM mvfleet.mv_refresh_log WHERE view_name = ${scenario.view} AND status = 'success'`;
      expect(log, context).toMatchObject({ targeted: batches, other: 0 });
      expect(log.keys, context).toBeGreaterThan(batches);
      const { actual, expected } = await viewAndReference(db.sql, demoCatalog.get(scenario.view));
      expect(actual, context).toEqual(expected);
    }
  }, 60_000);
});
