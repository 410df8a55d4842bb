import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog, KeyedDefinition } from '../src/catalog/catalog.js';
import { createDemoProducer, type DemoProducer } from '../examples/demo/producer.js';
import { demoCatalog, demoViewDefinitions } from '../examples/demo/schema/catalog.js';
import { tournamentAnalyticsSummary } from '../examples/demo/schema/index.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { RefreshFailedError } from '../src/workers/refresh-errors.js';
import { createRefreshExecutor, type RefreshRequest } from '../src/workers/refresh-executor.js';
import { verifyView } from '../src/workers/verify-view.js';
import { demoCatalogWith } from './helpers/catalog.js';
import { runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { viewAndReference } from './helpers/reference-views.js';

const VIEW = 'tournament_analytics_summary';
const REVENUE = 'mv_revenue_by_project_month';

const tournamentKeyed: KeyedDefinition = demoViewDefinitions.find((definition) => definition.view === tournamentAnalyticsSummary)!
  .keyed!;

describe('full rebuilds of keyed tables', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);
  let fleet: DemoProducer;

  beforeAll(async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    // Events record their keys; no worker runs, so only the refreshes each test makes apply them.
    fleet = createDemoProducer({ backend: backends.backend('producer'), sql: db.sql });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  /** Runs one refresh to success and returns its outcome. */
  async function refresh(request: Omit<RefreshRequest, 'reason'> & { reason?: RefreshRequest['reason'] }, catalog: Catalog = demoCatalog) {
    const outcome = await createRefreshExecutor({ sql: db.sql, catalog }).refresh({ reason: 'schedule', ...request });
    if (outcome.status !== 'success') throw new Error(`refresh of ${request.view}: ${outcome.status}`);
    return outcome;
  }

  /** Rebuilds `view` whole and checks that it then holds exactly its definition. */
  async function makeExact(view: string) {
    await refresh({ view });
    expect((await verifyView(db.sql, demoCatalog.store, demoCatalog.get(view))).differences).toBe(0);
  }

  const verify = (view: string) => verifyView(db.sql, demoCatalog.store, demoCatalog.get(view));
  const logRow = async (id: number) =>
    (
      await db.sql<{ strategy: string; keys_refreshed: number | null; rows_corrected: number | null }[]>`
        SELECT strategy, keys_refreshed, rows_corrected FROM mvfleet.mv_refresh_log WHERE id = ${id}`
    )[0];
  const pendingKeys = async (view: string) =>
    (await db.sql<{ key: unknown }[]>`SELECT key FROM mvfleet.mv_dirty_keys WHERE view_name = ${view} ORDER BY id`).map((row) => row.key);

  /** Tournaments that have matches, `count` of them, skipping the first `offset`. */
  const tournamentsWithMatches = async (count: number, offset: number) =>
    (
      await db.sql<{ id: number }[]>`
        SELECT t.id FROM tournaments t WHERE EXISTS (SELECT FROM matches m WHERE m.tournament_id = t.id)
        ORDER BY t.id OFFSET ${offset} LIMIT ${count}`
    ).map((row) => row.id);
  /** A source change that alters the tournament's row (one more completed match). */
  const addMatch = (tournamentId: number) => db.sql`
    INSERT INTO matches (tournament_id, round, state, started_at, completed_at)
    VALUES (${tournamentId}, 9, 'completed', now() - interval '25 minutes', now())`;
  const newTournament = async (name: string) =>
    (
      await db.sql<{ id: number }[]>`
        INSERT INTO tournaments (name, game, status, prize_pool) VALUES (${name}, 'chess', 'registration', 250) RETURNING id`
    )[0]!.id;

  it('corrects unannounced changes (changed, missing, extra) and counts them as rows_corrected', async () => {
    const doomed = await newTournament('Deleted without an event');
    await makeExact(VIEW);
    const [changed] = await tournamentsWithMatches(1, 0);

    await addMatch(changed!);
    await db.sql`DELETE FROM tournaments WHERE id = ${doomed}`;
    const added = await newTournament('Created without an event');

    const drift = await verify(VIEW);
    expect(drift).toMatchObject({ differences: 3, changed: 1, missing: 1, extra: 1, pending: 0 });
    expect(drift.samples).toEqual(expect.arrayContaining([{ tournament_id: changed }, { tournament_id: doomed }, { tournament_id: added }]));

    const outcome = await refresh({ view: VIEW, reason: 'schedule' });
    expect(outcome).toMatchObject({ strategy: 'full', rowsCorrected: 3, keysRefreshed: 0 });
    expect(await logRow(outcome.logId)).toEqual({ strategy: 'full', keys_refreshed: 0, rows_corrected: 3 });
    expect(await verify(VIEW)).toMatchObject({ differences: 0, pending: 0 });
    const { actual, expected } = await viewAndReference(db.sql, demoCatalog.get(VIEW));
    expect(actual).toEqual(expected);
  });

  it('does not count rows of announced keys as corrected', async () => {
    await makeExact(VIEW);
    const [drifted, announced] = await tournamentsWithMatches(2, 1);
    await addMatch(drifted!);
    await addMatch(announced!);
    await fleet.matchCompleted({ tournamentId: announced! });
    expect(await verify(VIEW)).toMatchObject({ differences: 2, changed: 2, pending: 1 });

    const outcome = await refresh({ view: VIEW, reason: 'schedule' });
    expect(outcome).toMatchObject({ strategy: 'full', keysRefreshed: 1, rowsCorrected: 1 });
    expect(await logRow(outcome.logId)).toEqual({ strategy: 'full', keys_refreshed: 1, rows_corrected: 1 });
    expect(await pendingKeys(VIEW)).toEqual([]);
    expect(await verify(VIEW)).toMatchObject({ differences: 0 });
  });

  it('tells announced (project, month) keys from drift in another month of the same project', async () => {
    await makeExact(REVENUE);
    const [announced, drifted] = await db.sql<{ id: number; project_id: number; firm_id: number; paid_on: string }[]>`
      WITH paid AS (
        SELECT i.id, i.project_id, p.firm_id, i.paid_on::text AS paid_on,
               row_number() OVER (PARTITION BY i.project_id, date_trunc('month', i.paid_on::timestamp) ORDER BY i.id) AS nth
        FROM invoices i JOIN projects p ON p.id = i.project_id WHERE i.status = 'paid' AND i.paid_on IS NOT NULL
      ), project AS (
        SELECT project_id FROM paid WHERE nth = 1 GROUP BY project_id HAVING count(*) >= 2 ORDER BY project_id LIMIT 1
      )
      SELECT id, project_id, firm_id, paid_on FROM paid WHERE nth = 1 AND project_id = (SELECT project_id FROM project)
      ORDER BY paid_on LIMIT 2`;
    expect(announced!.paid_on.slice(0, 7)).not.toBe(drifted!.paid_on.slice(0, 7));
    await db.sql`UPDATE invoices SET paid_amount = paid_amount + 500 WHERE id IN ${db.sql([announced!.id, drifted!.id])}`;
    await fleet.invoicePaid({ firmId: announced!.firm_id, projectId: announced!.project_id, paidOn: announced!.paid_on });
    expect(await verify(REVENUE)).toMatchObject({ differences: 2, changed: 2, pending: 1 });

    const outcome = await refresh({ view: REVENUE, reason: 'schedule' });
    expect(outcome).toMatchObject({ strategy: 'full', keysRefreshed: 1, rowsCorrected: 1 });
    expect(await verify(REVENUE)).toMatchObject({ differences: 0 });
  });

  it('rebuilds whole past fullRebuildShare of the rows, and stays exact', async () => {
    await makeExact(VIEW);
    const [{ rows }] = await db.sql<[{ rows: number }]>`SELECT count(*)::int AS rows FROM tournament_analytics_summary`;
    // 2 keys are within the share, 3 are past it.
    const catalog = demoCatalogWith({ [VIEW]: { keyed: { ...tournamentKeyed, fullRebuildShare: 2.5 / rows } } });

    const few = await tournamentsWithMatches(2, 3);
    for (const id of few) {
      await addMatch(id);
      await fleet.matchCompleted({ tournamentId: id });
    }
    const targeted = await refresh({ view: VIEW, reason: 'event', scope: 'keys' }, catalog);
    expect(targeted).toMatchObject({ strategy: 'targeted', keysRefreshed: 2 });
    expect(await verify(VIEW)).toMatchObject({ differences: 0 });

    const many = await tournamentsWithMatches(3, 5);
    for (const id of many) {
      await addMatch(id);
      await fleet.matchCompleted({ tournamentId: id });
    }
    // A rebuild chosen for the share still catches a change no event announced.
    const [unannounced] = await tournamentsWithMatches(1, 8);
    await addMatch(unannounced!);

    const full = await refresh({ view: VIEW, reason: 'event', scope: 'keys' }, catalog);
    expect(full).toMatchObject({ strategy: 'full', keysRefreshed: 3, rowsCorrected: 1 });
    expect(await logRow(full.logId)).toEqual({ strategy: 'full', keys_refreshed: 3, rows_corrected: 1 });
    expect(await pendingKeys(VIEW)).toEqual([]);
    expect(await verify(VIEW)).toMatchObject({ differences: 0 });
  });

  it.each([
    ['targeted', 'keys'],
    ['full', 'view'],
  ] as const)('a failed %s refresh keeps its dirty keys, leaves no running row and the previous rows', async (strategy, scope) => {
    await makeExact(VIEW);
    const catalog = demoCatalogWith({ [VIEW]: { lockTimeoutMs: 100 } });
    const [touched] = await tournamentsWithMatches(1, 10);
    await addMatch(touched!);
    await fleet.matchCompleted({ tournamentId: touched! });
    const before = await db.sql`SELECT * FROM tournament_analytics_summary ORDER BY tournament_id`;

    // Another session holds the table: the refresh's DELETE waits for it and hits lock_timeout.
    const holder = await db.sql.reserve();
    try {
      await holder`BEGIN`;
      await holder`LOCK TABLE tournament_analytics_summary IN ACCESS EXCLUSIVE MODE`;
      const failed = createRefreshExecutor({ sql: db.sql, catalog }).refresh({ view: VIEW, reason: 'event', scope });
      await expect(failed).rejects.toThrow(RefreshFailedError);
      await expect(failed).rejects.toMatchObject({ sqlState: '55P03' });
    } finally {
      await holder`ROLLBACK`;
      holder.release();
    }

    expect(await pendingKeys(VIEW)).toEqual([[touched]]);
    const attempts = await db.sql<{ status: string; error_code: string | null }[]>`
      SELECT status, error_code FROM mvfleet.mv_refresh_log WHERE view_name = ${VIEW} ORDER BY id DESC`;
    expect(attempts.filter((row) => row.status === 'running')).toEqual([]);
    expect(attempts[0]).toEqual({ status: 'failed', error_code: '55P03' });
    expect(await db.sql`SELECT * FROM tournament_analytics_summary ORDER BY tournament_id`).toEqual(before);

    // The kept key is what the next refresh recomputes.
    const retried = await refresh({ view: VIEW, reason: 'event', scope }, catalog);
    expect(retried).toMatchObject({ strategy, keysRefreshed: 1 });
    expect(await verify(VIEW)).toMatchObject({ differences: 0, pending: 0 });
  });

  it('mvfleet verify --all: exit 0 when exact, 1 after an unannounced change, 0 again once the key is announced', async () => {
    for (const view of demoCatalog.views) await refresh({ view: view.name, reason: 'manual' });
    const env = { DATABASE_URL: db.url };

    const exact = await runCli(['verify', '--all'], env);
    expect(exact.stderr).toBe('');
    expect(exact.code).toBe(0);
    expect(exact.stdout.trim().split('\n')).toHaveLength(demoCatalog.views.length);
    expect(exact.stdout).not.toMatch(/differences \(/);

    const [changed] = await tournamentsWithMatches(1, 12);
    await addMatch(changed!);
    const drifted = await runCli(['verify', '--all'], env);
    expect(drifted.code).toBe(1);
    expect(drifted.stdout).toMatch(
      new RegExp(`^${VIEW}: [\\d,]+ rows, 1 differences \\(1 changed, 0 missing, 0 extra\\); e\\.g\\. \\{"tournament_id":${changed}\\}$`, 'm'),
    );

    await fleet.matchCompleted({ tournamentId: changed! });
    const pending = await runCli(['verify', '--all'], env);
    expect(pending.code).toBe(0);
    expect(pending.stdout).toMatch(new RegExp(`^${VIEW}: .*; 1 in keys awaiting a refresh\\)`, 'm'));
  });
});
