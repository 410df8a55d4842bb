import { randomBytes, randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DbHandle, type Sql } from '../src/core/db.js';
import { createProducer, type Producer } from '../src/producers/producer.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { runCli } from './helpers/cli.js';
import { databaseUrl } from './helpers/database-names.js';
import { childPids, killWorker, useChildProcesses, type ChildHandle } from './helpers/processes.js';
import { startRestartablePostgres, type RestartablePostgres } from './helpers/restartable-postgres.js';
import { startRestartableRedis, type RestartableRedis } from './helpers/restartable-redis.js';
import { waitUntil } from './helpers/wait.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The load runs at least this long, faults or not, so every fault lands among writes. */
const MIN_LOAD_MS = 40_000;
/** Acknowledged events between one fault and the next (besides a refresh that succeeded since). */
const EVENTS_BETWEEN_FAULTS = 40;

/** Rows of the seeded data the writes pick from. */
interface Seeded {
  tournaments: number[];
  projects: { id: number; firmId: number; userId: number }[];
  budgetVersions: number[];
}

/**
 * One change of the source application: a write committed in one statement (all or nothing,
 * and no transaction for postgres.js to lose under a restarting server), then its event.
 */
interface Change {
  event: string;
  payload: Record<string, unknown>;
  write(sql: Sql): Promise<unknown>;
}

const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)]!;
const day = () => `2026-${String(1 + randomInt(10)).padStart(2, '0')}-${String(1 + randomInt(28)).padStart(2, '0')}`;

const changes: ((seeded: Seeded) => Change)[] = [
  ({ tournaments }) => {
    const tournamentId = pick(tournaments);
    return {
      event: 'match.completed',
      payload: { tournamentId },
      write: (sql) => sql`
        INSERT INTO matches (tournament_id, round, state, started_at, completed_at)
        VALUES (${tournamentId}, 9, 'completed', now() - interval '40 minutes', now())`,
    };
  },
  ({ tournaments }) => {
    const tournamentId = pick(tournaments);
    return {
      event: 'registration.confirmed',
      payload: { tournamentId },
      write: (sql) => sql`
        INSERT INTO registrations (tournament_id, user_id, status, checked_in)
        VALUES (${tournamentId}, ${1_000_000 + randomInt(1_000_000_000)}, 'confirmed', ${randomInt(2) === 1})
        ON CONFLICT DO NOTHING`,
    };
  },
  ({ tournaments }) => {
    const tournamentId = pick(tournaments);
    const amount = 10 + randomInt(5_000);
    return {
      event: 'prize.paid',
      payload: { tournamentId },
      write: (sql) => sql`
        WITH pool AS (
          UPDATE tournaments SET prize_pool = prize_pool + ${amount}, updated_at = now() WHERE id = ${tournamentId} RETURNING id
        )
        INSERT INTO prize_transactions (tournament_id, amount, status) SELECT id, ${amount}, 'completed' FROM pool`,
    };
  },
  ({ tournaments }) => {
    const tournamentId = pick(tournaments);
    return {
      event: 'tournament.finalized',
      payload: { tournamentId },
      write: (sql) => sql`
        UPDATE tournaments SET status = ${pick(['live', 'completed', 'cancelled'])}, prize_pool = ${randomInt(100_000)}, updated_at = now()
        WHERE id = ${tournamentId}`,
    };
  },
  ({ projects }) => {
    const project = pick(projects);
    const paidOn = day();
    return {
      event: 'invoice.paid',
      payload: { firmId: project.firmId, projectId: project.id, paidOn },
      write: (sql) => sql`
        INSERT INTO invoices (project_id, invoice_number, status, issued_on, total_amount, paid_amount, paid_on)
        VALUES (${project.id}, ${`F-${randomBytes(6).toString('hex')}`}, 'paid', ${paidOn}, 500, ${100 + randomInt(900)}, ${paidOn})`,
    };
  },
  ({ projects }) => {
    const project = pick(projects);
    const entryDate = day();
    return {
      event: 'time_entry.approved',
      payload: { firmId: project.firmId, projectId: project.id, entryDate },
      write: (sql) => sql`
        INSERT INTO time_entries (project_id, user_id, task_id, entry_date, hours, hourly_rate, is_billable, status, approved_at)
        VALUES (${project.id}, ${project.userId}, ${randomInt(20)}, ${entryDate}, ${1 + randomInt(7)}, 85, ${randomInt(3) > 0}, 'approved', now())`,
    };
  },
  () => ({
    event: 'import.finished',
    payload: { sumber: 'SNI faults' },
    write: (sql) => sql`
      WITH ahsp AS (
        INSERT INTO ahsp_referensi (kode_ahsp, nama_ahsp, sumber)
        VALUES (${`F.${randomBytes(6).toString('hex')}`}, 'Imported', 'SNI faults') RETURNING id
      )
      INSERT INTO rincian_referensi (ahsp_id, kategori, kode_item, uraian_item, satuan_item, koefisien)
      SELECT id, 'BHN', 'M.1', 'Semen', 'kg', ${randomInt(5)} FROM ahsp`,
  }),
  ({ budgetVersions }) => {
    const budgetVersionId = pick(budgetVersions);
    return {
      event: 'budget_version.status_changed',
      payload: { budgetVersionId },
      write: (sql) => sql`
        WITH version AS (
          UPDATE budget_versions SET status = ${pick(['working', 'submitted', 'approved'])}, updated_at = now()
          WHERE id = ${budgetVersionId} RETURNING id
        )
        INSERT INTO budget_lines (budget_version_id, account_code, label, amount)
        SELECT id, ${pick(['641000', '606000', '706000', '215000'])}, 'change', ${1_000 + randomInt(9_000)} FROM version`,
    };
  },
];

/**
 * The issue's "done when": under a load of writes and their events, workers are SIGKILLed
 * mid-refresh, PostgreSQL restarts (fast, then immediate), Redis is killed and comes back
 * empty, and is flushed; afterwards every acknowledged event has a successful refresh of each
 * of its views that started after it, and every view equals its definition.
 */
describe('faults under load lose nothing', () => {
  const processes = useChildProcesses();
  const workers: ChildHandle[] = [];
  let pg: RestartablePostgres | undefined;
  let redis: RestartableRedis | undefined;
  let db: DbHandle | undefined;
  let producer: Producer | undefined;
  let env: Record<string, string>;
  let seeded: Seeded;

  beforeAll(async () => {
    pg = await startRestartablePostgres();
    redis = await startRestartableRedis();
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    await admin`CREATE DATABASE mvfleet_faults`;
    await admin.end({ timeout: 1 });
    const url = databaseUrl(pg.url, 'mvfleet_faults');
    env = { DATABASE_URL: url, REDIS_URL: redis.url, MVFLEET_PREFIX: `{faults-${randomBytes(4).toString('hex')}}` };
    for (const args of [['migrate'], ['seed', '--scale', 'small']]) {
      const result = await runCli(args, env, { cwd: ROOT, timeoutMs: 120_000 });
      expect(result.code, `mvfleet ${args.join(' ')}: ${result.stderr}`).toBe(0);
    }
    db = createDb({ url, max: 4, applicationName: 'mvfleet-faults-test' });
    producer = createProducer({ catalog: demoCatalog, redisUrl: redis.url, prefix: env.MVFLEET_PREFIX, sql: db.sql, timeoutMs: 2_000 });
    const { sql } = db;
    seeded = {
      tournaments: (await sql<{ id: number }[]>`SELECT id FROM tournaments ORDER BY id`).map((row) => row.id),
      projects: (
        await sql<{ id: number; firm_id: number; user_id: number }[]>`
          SELECT p.id, p.firm_id, u.id AS user_id
          FROM projects p JOIN LATERAL (SELECT id FROM users WHERE firm_id = p.firm_id ORDER BY id LIMIT 1) u ON true
          ORDER BY p.id`
      ).map((row) => ({ id: row.id, firmId: row.firm_id, userId: row.user_id })),
      budgetVersions: (await sql<{ id: number }[]>`SELECT id FROM budget_versions WHERE deleted_at IS NULL ORDER BY id`).map((row) => row.id),
    };
  });

  afterAll(async () => {
    for (const worker of workers) killWorker(worker);
    await Promise.all(workers.map((worker) => worker.exited));
    await producer?.close().catch(() => {});
    await db?.close(1).catch(() => {});
    await redis?.stop();
    await pg?.stop();
  });

  const startWorker = () => {
    const worker = processes.cli(['worker'], { ...env, LOG_LEVEL: 'warn' }, { cwd: ROOT });
    workers.push(worker);
    return worker;
  };

  it('every acknowledged event gets a covering refresh, and verify --all is clean', { timeout: 300_000 }, async () => {
    const sql = db!.sql;
    const started = Date.now();
    const fleet = [startWorker(), startWorker()];

    const acknowledged: { event: string; requestedAt: Date; views: string[] }[] = [];
    let rejectedWrites = 0;
    let rejectedEmits = 0;
    let loading = true;

    /** Each write is retried until committed, then its event until acknowledged (an app would do the same). */
    const load = async () => {
      while (loading) {
        const change = pick(changes)(seeded);
        await waitUntil(`${change.event}: its write committed`, () => change.write(sql).then(() => true, () => ((rejectedWrites += 1), false)), {
          timeoutMs: 90_000,
          intervalMs: 100,
        });
        await waitUntil(`${change.event}: its event acknowledged`, async () => {
          try {
            const handle = await producer!.emit(change.event, change.payload);
            acknowledged.push({ event: change.event, requestedAt: handle.requestedAt, views: handle.views });
            return true;
          } catch {
            rejectedEmits += 1;
            return false;
          }
        }, { timeoutMs: 90_000, intervalMs: 100 });
      }
    };

    /** Queries while PostgreSQL restarts fail; a condition that reads is then simply not met yet. */
    const query = async <T>(read: () => Promise<T>): Promise<T | undefined> => read().catch(() => undefined);

    /** More events acknowledged and a refresh succeeded since `since`: the fleet is working again. */
    const progressSince = async (what: string) => {
      const since = new Date();
      const count = acknowledged.length;
      await waitUntil(`events and a successful refresh after ${what}`, async () => {
        if (acknowledged.length < count + EVENTS_BETWEEN_FAULTS) return false;
        const rows = await query(() => sql`SELECT 1 FROM mvfleet.mv_refresh_log WHERE status = 'success' AND started_at >= ${since} LIMIT 1`);
        return rows !== undefined && rows.length > 0;
      }, { timeoutMs: 120_000, intervalMs: 100 });
    };

    /** SIGKILLs `worker` (the supervisor and its role) while its role has a refresh running, and starts another. */
    const killMidRefresh = async (worker: ChildHandle) => {
      await waitUntil('a refresh running in the worker to kill', async () => {
        const ids = childPids(worker.child.pid!).map((pid) => `${hostname()}:${pid}`);
        if (ids.length === 0) return false;
        const rows = await query(() => sql`SELECT 1 FROM mvfleet.mv_refresh_log WHERE status = 'running' AND worker_id IN ${sql(ids)} LIMIT 1`);
        return rows !== undefined && rows.length > 0;
      }, { timeoutMs: 120_000, intervalMs: 5 });
      killWorker(worker);
      expect((await worker.exited).signal).toBe('SIGKILL');
      fleet.push(startWorker());
    };

    const faults: string[] = [];
    const injectOnly = async (name: string, fault: () => Promise<void>) => {
      await fault();
      faults.push(`${name} at ${Math.round((Date.now() - started) / 1000)} s`);
    };
    const inject = async (name: string, fault: () => Promise<void>) => {
      await injectOnly(name, fault);
      await progressSince(name);
    };

    const loading$ = load();
    try {
      await progressSince('the start');
      await inject('worker SIGKILLed mid-refresh', () => killMidRefresh(fleet[0]!));
      await inject('PostgreSQL restart (fast)', () => pg!.restart('fast'));
      await inject('Redis killed, back empty', async () => {
        await redis!.kill();
        await redis!.start();
      });
      await inject('worker SIGKILLed mid-refresh', () => killMidRefresh(fleet[1]!));
      await inject('PostgreSQL restart (immediate)', () => pg!.restart('immediate'));
      await waitUntil('the minimum load duration', () => Date.now() - started >= MIN_LOAD_MS, { timeoutMs: MIN_LOAD_MS, intervalMs: 250 });
      // Last, with no event after it: the jobs of the events acknowledged just before are gone
      // with the flush, and only the requests recorded in PostgreSQL can bring their refreshes.
      await injectOnly('FLUSHALL', () => redis!.flushAll());
    } finally {
      loading = false;
      await loading$;
    }
    const loadMs = Date.now() - started;
    const [waiting] = await sql<[{ n: number }]>`
      SELECT (SELECT count(*)::int FROM mvfleet.mv_pending_requests) + (SELECT count(*)::int FROM mvfleet.mv_dirty_keys) AS n`;

    // Quiet: no request waits (whole-view or key) and no refresh runs.
    await waitUntil('the fleet to go quiet', async () => {
      const [row] =
        (await query(() => sql<[{ pending: number; keys: number; running: number }]>`
          SELECT (SELECT count(*)::int FROM mvfleet.mv_pending_requests) AS pending,
                 (SELECT count(*)::int FROM mvfleet.mv_dirty_keys) AS keys,
                 (SELECT count(*)::int FROM mvfleet.mv_refresh_log WHERE status = 'running') AS running`)) ?? [];
      return row !== undefined && row.pending + row.keys + row.running === 0;
    }, { timeoutMs: 150_000, intervalMs: 250 });
    const quietMs = Date.now() - started - loadMs;

    const requests = acknowledged.flatMap(({ event, requestedAt, views }) => views.map((view) => ({ event, view, requestedAt: requestedAt.toISOString() })));
    const lost = await sql<{ event: string; view_name: string; requested_at: Date }[]>`
      SELECT a.event, a.view_name, a.requested_at
      FROM unnest(${requests.map((r) => r.event)}::text[], ${requests.map((r) => r.view)}::text[],
                  ${requests.map((r) => r.requestedAt)}::timestamptz[]) AS a(event, view_name, requested_at)
      WHERE NOT EXISTS (
        SELECT 1 FROM mvfleet.mv_refresh_log l
        WHERE l.view_name = a.view_name AND l.status = 'success' AND l.started_at >= a.requested_at
      )
      ORDER BY a.requested_at`;
    expect(lost, 'acknowledged events without a refresh that started after them').toEqual([]);

    const verify = await runCli(['verify', '--all'], env, { cwd: ROOT, timeoutMs: 120_000 });
    expect(verify.code, `mvfleet verify --all:\n${verify.stdout}${verify.stderr}`).toBe(0);

    const [log] = await sql<[{ success: number; failed: number }]>`
      SELECT count(*) FILTER (WHERE status = 'success')::int AS success, count(*) FILTER (WHERE status = 'failed')::int AS failed
      FROM mvfleet.mv_refresh_log`;
    const roleRestarts = workers.reduce((sum, worker) => sum + worker.output().split('restarting the role').length - 1, 0);
    console.log(
      `faults: ${acknowledged.length} events acknowledged (${rejectedEmits} emits and ${rejectedWrites} writes rejected and retried), ` +
        `${faults.length} faults (${faults.join(', ')}), ${log.success} refreshes (${log.failed} failed attempts), ` +
        `${roleRestarts} role restarts; load ${Math.round(loadMs / 1000)} s, ${waiting.n} requests waiting after the flush, ` +
        `quiet ${Math.round(quietMs / 1000)} s later; nothing lost`,
    );
    expect(faults).toHaveLength(6);
  });
});
