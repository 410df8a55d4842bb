import { createDb, type DbHandle } from '../../src/core/db.js';
import { migrate } from '../../src/migrate/migrate.js';
import { quoteQualified } from '../../src/store/engine-schema.js';
import { demoCatalog } from '../../examples/demo/schema/catalog.js';
import demoConfig from '../../examples/demo/mvfleet.config.js';
import { startInProcessFleet } from '../in-process-fleet.js';
import { figureSet, type Scenario } from '../context.js';
import { quantile, ratio, seededRandom } from '../stats.js';

type Pattern = 'update_1_client' | 'update_8_clients' | 'update_8_clients_same_key' | 'batch_insert_1000' | 'batch_delete_1000';

const VIEW = 'tournament_analytics_summary';
const CLIENTS = 8;

interface Sample {
  latencies: number[];
  writes: number;
  ms: number;
}

/**
 * The write path with capture triggers against the same writes without them, on `matches`
 * (a source of the tournament view, which captures its key `tournament_id`): single-row
 * UPDATEs from 1 and 8 clients (8 on rows of one tournament: the same key), and 1,000-row
 * INSERT and DELETE batches. Blocks with the triggers disabled and enabled alternate, so both
 * see the same machine. Then, with the triggers on and a worker running, the lag from a
 * write's commit to the end of the first refresh that started after it (which covers it).
 */
export const captureScenario: Scenario = async (context) => {
  const out = figureSet();
  const { capture: workload } = context.workload;
  const sql = context.db.sql;
  await migrate({ sql, catalog: demoCatalog, migrationsFolder: demoConfig.migrations });
  const writers: DbHandle = createDb({ url: context.databaseUrl, max: CLIENTS, applicationName: 'mvfleet-bench-writers' });
  const engineTables = `${quoteQualified(context.catalog.store.dirtyKeys)}, ${quoteQualified(context.catalog.store.pendingRequests)}`;
  try {
    const random = seededRandom(7);
    const ids = (await sql<{ id: number }[]>`SELECT id FROM matches ORDER BY id`).map((row) => row.id);
    const [{ tournament }] = await sql<[{ tournament: number }]>`
      SELECT tournament_id AS tournament FROM matches GROUP BY tournament_id ORDER BY count(*) DESC LIMIT 1`;
    const sameKey = (await sql<{ id: number }[]>`SELECT id FROM matches WHERE tournament_id = ${tournament} ORDER BY id LIMIT ${CLIENTS}`).map((row) => row.id);
    const tournaments = (await sql<{ id: number }[]>`SELECT id FROM tournaments ORDER BY id LIMIT 50`).map((row) => row.id);
    const anyId = () => ids[Math.floor(random() * ids.length)]!;
    const update = (id: number) => writers.sql`UPDATE matches SET round = round + 1 WHERE id = ${id}`;

    /** `clients` loops of `write` for `blockMs`; each write's latency. */
    const timed = async (clients: number, write: (client: number) => Promise<unknown>): Promise<Sample> => {
      const latencies: number[] = [];
      const started = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async (_, client) => {
          while (performance.now() - started < workload.blockMs) {
            const t = performance.now();
            await write(client);
            latencies.push(performance.now() - t);
          }
        }),
      );
      return { latencies, writes: latencies.length, ms: performance.now() - started };
    };
    const batches = async (kind: 'insert' | 'delete'): Promise<Sample> => {
      const latencies: number[] = [];
      const started = performance.now();
      for (let i = 0; i < workload.batches; i++) {
        const t = performance.now();
        if (kind === 'insert') {
          await writers.sql`
            INSERT INTO matches (tournament_id, round, state, started_at, completed_at)
            SELECT (${tournaments}::int[])[1 + g % ${tournaments.length}], 99, 'completed', now() - interval '1 hour', now() FROM generate_series(1, 1000) AS g`;
          latencies.push(performance.now() - t);
          // Not timed: restores the table for the next batch.
          await writers.sql`DELETE FROM matches WHERE round = 99`;
        } else {
          await writers.sql`
            INSERT INTO matches (tournament_id, round, state, started_at, completed_at)
            SELECT (${tournaments}::int[])[1 + g % ${tournaments.length}], 99, 'completed', now() - interval '1 hour', now() FROM generate_series(1, 1000) AS g`;
          const d = performance.now();
          await writers.sql`DELETE FROM matches WHERE round = 99`;
          latencies.push(performance.now() - d);
        }
      }
      return { latencies, writes: latencies.length, ms: performance.now() - started };
    };
    const patterns: Record<Pattern, () => Promise<Sample>> = {
      update_1_client: () => timed(1, () => update(anyId())),
      update_8_clients: () => timed(CLIENTS, () => update(anyId())),
      update_8_clients_same_key: () => timed(CLIENTS, (client) => update(sameKey[client % sameKey.length]!)),
      batch_insert_1000: () => batches('insert'),
      batch_delete_1000: () => batches('delete'),
    };

    const samples = new Map<string, Sample>();
    const setTriggers = async (on: boolean) => {
      await sql.unsafe(`ALTER TABLE matches ${on ? 'ENABLE' : 'DISABLE'} TRIGGER USER`);
      await sql.unsafe(`TRUNCATE ${engineTables}`);
    };
    for (let block = 0; block < workload.blocks; block++) {
      const order = block % 2 === 0 ? [false, true] : [true, false];
      for (const [pattern, run] of Object.entries(patterns)) {
        for (const on of order) {
          await setTriggers(on);
          const result = await run();
          const key = `${on ? 'capture' : 'plain'}.${pattern}`;
          const entry = samples.get(key) ?? { latencies: [], writes: 0, ms: 0 };
          entry.latencies.push(...result.latencies);
          entry.writes += result.writes;
          entry.ms += result.ms;
          samples.set(key, entry);
        }
      }
    }
    await setTriggers(true);

    for (const pattern of Object.keys(patterns) as Pattern[]) {
      const plain = samples.get(`plain.${pattern}`)!;
      const captured = samples.get(`capture.${pattern}`)!;
      const perRow = pattern.startsWith('batch') ? 1000 : 1;
      const what = pattern.replaceAll('_', ' ');
      for (const q of [0.5, 0.99] as const) {
        const overhead = quantile(captured.latencies, q) - quantile(plain.latencies, q);
        if (perRow === 1) out.add(`${pattern}.overhead_p${q * 100}_ms`, overhead, 'ms', `write latency added by capture, p${q * 100}, ${what}`);
        else out.add(`${pattern}.overhead_p${q * 100}_us_per_row`, (overhead * 1000) / perRow, 'µs', `per-row time added by capture, p${q * 100}, ${what}`);
      }
      out.add(`${pattern}.plain_p50_ms`, quantile(plain.latencies, 0.5), 'ms', `write latency p50 without triggers, ${what}`);
      out.add(`${pattern}.throughput_ratio`, ratio(captured.writes / captured.ms, plain.writes / plain.ms), 'x', `throughput with capture / without, ${what}`);
    }

    // Lag: the triggers on, a worker running, writes committed one after another.
    await sql.unsafe(`TRUNCATE ${engineTables}`);
    const fleet = await startInProcessFleet({ databaseUrl: context.databaseUrl, redisUrl: context.redisUrl, prefix: context.prefix('capture'), catalog: demoCatalog });
    const commits: Date[] = [];
    try {
      for (let i = 0; i < workload.lagWrites; i++) {
        await update(anyId());
        commits.push(new Date());
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 50)));
      }
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const [row] = await sql<[{ n: number }]>`SELECT count(*)::int AS n FROM ${sql(context.catalog.store.dirtyKeys)} WHERE view_name = ${VIEW}`;
        if (row.n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await fleet.close();
    }
    const lags: number[] = [];
    let uncovered = 0;
    for (const commit of commits) {
      const [row] = await sql<[{ finished: Date | string | null }]>`
        SELECT min(finished_at) AS finished FROM ${sql(context.catalog.store.refreshLog)}
        WHERE view_name = ${VIEW} AND status = 'success' AND started_at > ${commit.toISOString()}::timestamptz`;
      if (row.finished === null) uncovered += 1;
      else lags.push(new Date(row.finished).getTime() - commit.getTime());
    }
    out.add('lag.p50_ms', quantile(lags, 0.5), 'ms', `commit → end of a covering refresh of ${VIEW}, p50`);
    out.add('lag.p99_ms', quantile(lags, 0.99), 'ms', `commit → end of a covering refresh of ${VIEW}, p99 (target < 1 s)`);
    out.add('lag.uncovered', uncovered, 'count', 'committed writes no refresh covered within 30 s (target 0)');
    out.note(
      `capture: ${workload.blocks} interleaved blocks of ${workload.blockMs} ms per pattern, triggers disabled/enabled (ALTER TABLE … DISABLE TRIGGER USER) on matches; ` +
        `${CLIENTS} clients on their own connections; the same-key pattern updates ${CLIENTS} matches of one tournament; lag over ${workload.lagWrites} single-row UPDATEs with a worker in this process (poll 250 ms, coalescing window 250 ms).`,
    );
  } finally {
    await writers.close();
    // The other scenarios measure events alone: the triggers go again.
    await migrate({ sql, catalog: context.catalog, migrationsFolder: demoConfig.migrations });
    await sql.unsafe(`TRUNCATE ${engineTables}`);
  }
  return { figures: out.figures, notes: out.notes };
};

