import { setTimeout as delay } from 'node:timers/promises';
import { createDb, type Sql } from '../../core/db.js';
import { quoteIdent } from '../../core/identifiers.js';
import { createRedisQueueBackend } from '../../core/queue-backend.js';
import { createFleet } from '../../producers/fleet.js';
import { createRefreshQueue } from '../../producers/refresh-queue.js';
import { backendCpuMs, backendPids, cpuBetween } from '../backend-cpu.js';
import { figureSet, type BenchContext, type Scenario } from '../context.js';
import { prefixFootprint, usedMemory } from '../redis-keys.js';
import { mean, quantile, ratio, seededRandom, since, sum } from '../stats.js';
import { startWorkerProcess, type WorkerProcess } from '../worker-processes.js';

/** One application event of the storm: a committed write, then `emit`. */
interface StormEvent {
  name: 'invoice.paid' | 'match.completed';
  /** Row written by the event's transaction. */
  rowId: number;
  payload: Record<string, number>;
}

interface Sent {
  view: string;
  /** Epoch milliseconds (sub-millisecond) right after the write committed. */
  committedAt: number;
  emitMs: number;
}

const WORKER_APPLICATION_NAME = 'mvfleet-worker';

/**
 * 10,000 `invoice.paid` and `match.completed` events over 10 s (each a committed write then
 * an `emit`) against two `mvfleet worker` processes; then the naive strategies on a sample.
 */
export const eventStormScenario: Scenario = async (context) => {
  const { workload, catalog } = context;
  const out = figureSet();
  const prefix = context.prefix('storm');
  const events = await pickEvents(context, workload.stormEvents);
  const writers = createDb({ url: context.databaseUrl, max: 16, applicationName: 'mvfleet-bench-storm' });
  const workers: WorkerProcess[] = [];
  const fleet = createFleet({ catalog, redisUrl: context.redisUrl, prefix });
  const queueBackend = createRedisQueueBackend({ url: context.redisUrl, prefix });
  const queue = createRefreshQueue(queueBackend);
  try {
    for (let i = 0; i < 2; i += 1) {
      workers.push(await startWorkerProcess({ databaseUrl: context.databaseUrl, redisUrl: context.redisUrl, prefix }));
    }
    await writers.sql`SELECT 1`;
    const memoryBefore = await usedMemory(context.redis);
    const cpuBefore = await backendCpuMs(await backendPids(context.db.sql, WORKER_APPLICATION_NAME));
    const [{ now: stormStart }] = await context.db.sql<[{ now: Date }]>`SELECT clock_timestamp() AS now`;

    context.log(`event-storm: ${events.length} events over ${workload.stormSeconds} s, 2 worker processes`);
    const { sent, wallMs } = await storm(context, writers.sql, fleet, events, workload.stormSeconds * 1000);
    const drainMs = await waitUntilDrained(context, queue, sent);
    const cpuAfter = await backendCpuMs(await backendPids(context.db.sql, WORKER_APPLICATION_NAME));
    const memoryAfter = await usedMemory(context.redis);
    const footprint = await prefixFootprint(context.redis, prefix);

    out.add('events', sent.length, 'count', 'events emitted (each a committed write + emit)');
    out.add('emit_wall_s', wallMs / 1000, 's', 'time to emit them all');
    out.add('event_rate', sent.length / (wallMs / 1000), 'events/s', 'achieved event rate');
    out.add('emit_p50_ms', quantile(sent.map((s) => s.emitMs), 0.5), 'ms', 'emit latency during the storm, p50');
    out.add('emit_p99_ms', quantile(sent.map((s) => s.emitMs), 0.99), 'ms', 'emit latency during the storm, p99');
    out.add('drain_ms', drainMs, 'ms', 'last event → queue empty and every event covered');

    const log = await refreshLog(context.db.sql, stormStart);
    let refreshes = 0;
    for (const row of log) {
      refreshes += row.success;
      out.add(`refreshes.${row.view}`, row.success, 'count', `${row.view}: successful refreshes (skipped ${row.skipped}, failed ${row.failed})`);
    }
    out.add('refreshes.total', refreshes, 'count', 'successful refreshes, all views (cascade included)');
    out.add('events_per_refresh', ratio(sent.length, refreshes), 'x', 'events per refresh executed (target ≥ 100)');
    const refreshTimeMs = sum(log.map((row) => row.durationMs));
    out.add('refresh_time_ms', refreshTimeMs, 'ms', 'refresh time: sum of duration_ms of those refreshes');
    if (cpuBefore && cpuAfter) {
      out.add('worker_backend_cpu_ms', cpuBetween(cpuBefore, cpuAfter), 'ms', 'CPU of the workers\' PostgreSQL backends (/proc), storm + drain');
    } else {
      out.note('PostgreSQL backends are not visible from here (/proc): only refresh time (sum of duration_ms) is reported.');
    }

    const lags = await freshnessLags(context.db.sql, sent);
    for (const [view, values] of Object.entries(lags)) {
      out.add(`lag.${view}.p50_ms`, quantile(values, 0.5), 'ms', `${view}: freshness lag p50`);
      out.add(`lag.${view}.p99_ms`, quantile(values, 0.99), 'ms', `${view}: freshness lag p99`);
      out.add(`lag.${view}.max_ms`, Math.max(...values), 'ms', `${view}: freshness lag max`);
    }
    const all = Object.values(lags).flat();
    out.add('lag.all.p50_ms', quantile(all, 0.5), 'ms', 'freshness lag p50, all events');
    out.add('lag.all.p99_ms', quantile(all, 0.99), 'ms', 'freshness lag p99, all events');
    out.add('lag.all.max_ms', Math.max(...all), 'ms', 'freshness lag max, all events');
    for (const row of log.filter((r) => r.success > 0)) {
      out.add(`refresh_p50_ms.${row.view}`, row.p50Ms, 'ms', `${row.view}: refresh duration p50 during the storm`);
      out.add(`refresh_max_ms.${row.view}`, row.maxMs, 'ms', `${row.view}: refresh duration max during the storm`);
    }
    const window = Math.max(...catalog.views.map((view) => view.coalesceWindowMs));
    out.add('coalesce_window_ms', window, 'ms', 'coalescing window (catalog default)');

    out.add('redis.used_memory_before_bytes', memoryBefore, 'bytes', 'Redis used_memory before the storm');
    out.add('redis.used_memory_after_bytes', memoryAfter, 'bytes', 'Redis used_memory after it drained');
    out.add('redis.growth_bytes', memoryAfter - memoryBefore, 'bytes', 'Redis used_memory growth (whole server: shared Redis adds noise)');
    out.add('redis.fleet_keys', footprint.keys, 'count', 'keys under the storm\'s prefix after it drained');
    out.add('redis.fleet_bytes', footprint.bytes, 'bytes', 'MEMORY USAGE of those keys');

    await naiveStrategies(context, events, sent.length, refreshTimeMs, wallMs, out);
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    await queue.close();
    await queueBackend.close();
    await fleet.close();
    await writers.close();
  }
  out.note('Freshness lag: per event, start of the first successful refresh of its view with started_at ≥ the write\'s commit, minus that commit (same machine clock).');
  out.note('The storm\'s writes rewrite one row each without changing what the views show (updated_at / paid_amount = paid_amount), so the data stay comparable across runs.');
  return out;
};

/** Events alternate between the two kinds; rows and keys come from the seeded data. */
async function pickEvents(context: BenchContext, count: number): Promise<StormEvent[]> {
  const { sql } = context.db;
  const matches = await sql<{ id: number; tournament_id: number }[]>`
    SELECT id, tournament_id FROM matches ORDER BY id LIMIT 5000`;
  const invoices = await sql<{ id: number; project_id: number; firm_id: number }[]>`
    SELECT i.id, i.project_id, p.firm_id FROM invoices i JOIN projects p ON p.id = i.project_id ORDER BY i.id LIMIT 5000`;
  const random = seededRandom(23);
  return Array.from({ length: count }, (_, i): StormEvent => {
    if (i % 2 === 0) {
      const row = matches[Math.floor(random() * matches.length)]!;
      return { name: 'match.completed', rowId: row.id, payload: { tournamentId: row.tournament_id, matchId: row.id } };
    }
    const row = invoices[Math.floor(random() * invoices.length)]!;
    return { name: 'invoice.paid', rowId: row.id, payload: { firmId: row.firm_id, projectId: row.project_id, invoiceId: row.id } };
  });
}

async function write(sql: Sql, event: StormEvent): Promise<void> {
  if (event.name === 'match.completed') await sql`UPDATE matches SET updated_at = now() WHERE id = ${event.rowId}`;
  else await sql`UPDATE invoices SET paid_amount = paid_amount WHERE id = ${event.rowId}`;
}

/** Epoch milliseconds with sub-millisecond resolution, on the system clock PostgreSQL also reads. */
const epochMs = () => performance.timeOrigin + performance.now();

/** Paces events evenly over `durationMs`, at most 64 in flight (as a busy app server would have). */
async function storm(
  context: BenchContext,
  sql: Sql,
  fleet: ReturnType<typeof createFleet>,
  events: StormEvent[],
  durationMs: number,
): Promise<{ sent: Sent[]; wallMs: number }> {
  const sent: Sent[] = [];
  const interval = durationMs / events.length;
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (const [i, event] of events.entries()) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await delay(wait);
    while (inFlight.size >= 64) await Promise.race(inFlight);
    const task = (async () => {
      await write(sql, event);
      const committedAt = epochMs();
      const emitStart = performance.now();
      const handle = await fleet.emit(event.name, event.payload);
      const emitMs = since(emitStart);
      for (const view of context.catalog.viewsForEvent(event.name)) sent.push({ view: view.name, committedAt, emitMs });
      void handle;
    })();
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  }
  await Promise.all(inFlight);
  return { sent, wallMs: since(start) };
}

/** Waits (deadline 5 min) until every event's view had a success after the event and the queue is empty. */
async function waitUntilDrained(context: BenchContext, queue: ReturnType<typeof createRefreshQueue>, sent: Sent[]): Promise<number> {
  const start = performance.now();
  const lastByView = new Map<string, number>();
  for (const s of sent) lastByView.set(s.view, Math.max(lastByView.get(s.view) ?? 0, s.committedAt));
  const deadline = Date.now() + 300_000;
  for (;;) {
    const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized', 'waiting-children');
    const pending = Object.values(counts).reduce((total, count) => total + count, 0);
    let covered = true;
    for (const [view, last] of lastByView) {
      const [row] = await context.db.sql<{ ok: boolean }[]>`
        SELECT EXISTS (SELECT 1 FROM mv_refresh_log WHERE view_name = ${view} AND status = 'success'
                       AND started_at >= to_timestamp(${last / 1000})) AS ok`;
      covered &&= row?.ok ?? false;
    }
    if (pending === 0 && covered) return since(start);
    if (Date.now() > deadline) throw new Error(`event-storm: not drained after 5 min (${JSON.stringify(counts)})`);
    await delay(50);
  }
}

interface ViewLog {
  view: string;
  success: number;
  skipped: number;
  failed: number;
  durationMs: number;
  p50Ms: number;
  maxMs: number;
}

async function refreshLog(sql: Sql, since: Date): Promise<ViewLog[]> {
  const rows = await sql<{ view: string; success: number; skipped: number; failed: number; duration_ms: number; p50_ms: number | null; max_ms: number | null }[]>`
    SELECT view_name AS view,
           count(*) FILTER (WHERE status = 'success')::int AS success,
           count(*) FILTER (WHERE status = 'skipped')::int AS skipped,
           count(*) FILTER (WHERE status = 'failed')::int AS failed,
           coalesce(sum(duration_ms) FILTER (WHERE status = 'success'), 0)::float8 AS duration_ms,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE status = 'success') AS p50_ms,
           max(duration_ms) FILTER (WHERE status = 'success')::float8 AS max_ms
    FROM mv_refresh_log WHERE started_at >= ${since} AND worker_id IS DISTINCT FROM 'bench-in-process'
    GROUP BY view_name ORDER BY view_name`;
  return rows.map((row) => ({
    view: row.view,
    success: row.success,
    skipped: row.skipped,
    failed: row.failed,
    durationMs: row.duration_ms,
    p50Ms: row.p50_ms ?? Number.NaN,
    maxMs: row.max_ms ?? Number.NaN,
  }));
}

/** Lag per event and view, computed in one query against the refresh log's success index. */
async function freshnessLags(sql: Sql, sent: Sent[]): Promise<Record<string, number[]>> {
  const rows = await sql<{ view: string; lag_ms: number | null }[]>`
    SELECT e.view, extract(epoch FROM (r.started_at - to_timestamp(e.committed_ms / 1000))) * 1000 AS lag_ms
    FROM unnest(${sent.map((s) => s.view)}::text[], ${sent.map((s) => s.committedAt)}::float8[]) AS e(view, committed_ms)
    LEFT JOIN LATERAL (
      SELECT started_at FROM mv_refresh_log
      WHERE view_name = e.view AND status = 'success' AND started_at >= to_timestamp(e.committed_ms / 1000)
      ORDER BY started_at LIMIT 1
    ) r ON true`;
  const lags: Record<string, number[]> = {};
  for (const row of rows) {
    if (row.lag_ms === null) throw new Error(`event-storm: an event of ${row.view} has no covering refresh`);
    (lags[row.view] ??= []).push(Number(row.lag_ms));
  }
  return lags;
}

/**
 * The naive ways, on a sample, interleaved event by event (the workers are idle by now):
 * (a) the write and a synchronous REFRESH of the event's views inside the request, as the
 * AHSP import did; (b) one background refresh per event without coalescing, as
 * "signal → background job" would: its refresh time per event. Both extrapolated to the storm.
 */
async function naiveStrategies(
  context: BenchContext,
  events: StormEvent[],
  stormEvents: number,
  fleetRefreshMs: number,
  stormWallMs: number,
  out: ReturnType<typeof figureSet>,
): Promise<void> {
  const sample = context.workload.naiveSample;
  context.log(`event-storm: naive strategies, ${sample} events each`);
  const connection = await context.db.sql.reserve();
  const requestMs: number[] = [];
  const refreshMs: number[] = [];
  try {
    const refreshViews = async (event: StormEvent) => {
      const start = performance.now();
      for (const view of viewsWithCascade(context, event.name)) {
        await connection.unsafe(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${quoteIdent(view)}`);
      }
      return since(start);
    };
    for (let i = 0; i < sample * 2; i += 1) {
      // Alternate kinds and strategies so both strategies see the same mix of events.
      // Events alternate kinds by index, so each strategy gets as many of each kind.
      const event = events[i]!;
      const synchronous = (i >> 1) % 2 === 0;
      if (synchronous) {
        const start = performance.now();
        await write(connection, event);
        await refreshViews(event);
        requestMs.push(since(start));
      } else {
        await write(connection, event);
        refreshMs.push(await refreshViews(event));
      }
    }
  } finally {
    connection.release();
  }
  const perEventSync = mean(requestMs);
  const perEventQueued = mean(refreshMs);
  out.add('naive.sync.per_event_ms', perEventSync, 'ms', '(a) refresh inside the request: request time per event (mean)');
  out.add('naive.sync.per_storm_s', (perEventSync * stormEvents) / 1000, 's', '(a) extrapolated to the storm: refresh time');
  out.add('naive.sync.ratio', ratio(perEventSync * stormEvents, fleetRefreshMs), 'x', '(a) refresh time / fleet refresh time');
  out.add('naive.queued.per_event_ms', perEventQueued, 'ms', '(b) one queued refresh per event: refresh time per event (mean)');
  out.add('naive.queued.per_storm_s', (perEventQueued * stormEvents) / 1000, 's', '(b) extrapolated to the storm: refresh time');
  out.add('naive.queued.ratio', ratio(perEventQueued * stormEvents, fleetRefreshMs), 'x', '(b) refresh time / fleet refresh time');
  out.add(
    'naive.queued.load',
    (perEventQueued * stormEvents) / stormWallMs,
    'x',
    '(b) refresh seconds needed per second of storm (> workers × 1: the backlog, and the lag, grow without bound)',
  );
}

function viewsWithCascade(context: BenchContext, event: string): string[] {
  const direct = context.catalog.viewsForEvent(event).map((view) => view.name);
  return [...new Set([...direct, ...direct.flatMap((name) => context.catalog.downstreamOf(name).map((view) => view.name))])];
}
