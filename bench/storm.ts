import { setTimeout as delay } from 'node:timers/promises';
import type { Catalog } from '../src/catalog/catalog.js';
import { createDb, type Sql } from '../src/core/db.js';
import { createRedisQueueBackend } from '../src/queue/queue-backend.js';
import { createProducer, type Producer } from '../src/producers/producer.js';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import { backendCpuMs, backendPids, cpuBetween } from './backend-cpu.js';
import type { BenchContext, Figure, figureSet } from './context.js';
import { vacuumChurned } from './database.js';
import { prefixFootprint, usedMemory } from './redis-keys.js';
import { freshnessLags, refreshLog, type Sent, type ViewLog } from './storm-log.js';
import { quantile, ratio, seededRandom, since, sum } from './stats.js';
import { startWorkerProcess, type WorkerProcess } from './worker-processes.js';

/**
 * The event storm: `invoice.paid` and `match.completed` events paced evenly over a few
 * seconds, each a committed write then `emit` through a fleet that records the events' keys
 * (so the keyed views get targeted refreshes), against two `mvfleet worker` processes.
 * Used by the event-storm scenario and replayed by the targeted one. With `capture` (a
 * catalog whose triggers are installed) the same writes go out without `emit`: the triggers
 * record their keys (the capture-storm scenario).
 */

/** One application event of the storm: a committed write, then `emit`. */
export interface StormEvent {
  name: 'invoice.paid' | 'match.completed';
  /** Row written by the event's transaction. */
  rowId: number;
  payload: Record<string, number | string>;
}

export interface StormRun {
  events: StormEvent[];
  sent: number;
  wallMs: number;
  emitMs: number[];
  /** Last event → queue empty and every event covered. */
  drainMs: number;
  log: ViewLog[];
  /** CPU of PostgreSQL backends (/proc), or null when the server's processes are not visible here. */
  cpu: { workersMs: number; keysMs: number } | null;
  /** Event commit → success of a refresh that shows it, per view. */
  lags: Record<string, number[]>;
  redis: { memoryBefore: number; memoryAfter: number; fleetKeys: number; fleetBytes: number };
  /** Coalescing window of each view the events map to. */
  windowsMs: Record<string, number>;
}

const WORKER_APPLICATION_NAME = 'mvfleet-worker';
const KEYS_APPLICATION_NAME = 'mvfleet-bench-keys';

/** Runs one storm of `count` events over `seconds` against two fresh worker processes on a queue prefix of its own. */
export async function runStorm(
  context: BenchContext,
  options: { label: string; count: number; seconds: number; capture?: Catalog },
): Promise<StormRun> {
  const { catalog } = context;
  const prefix = context.prefix(options.label);
  const events = await pickEvents(context, options.count);
  const writers = createDb({ url: context.databaseUrl, max: 16, applicationName: 'mvfleet-bench-storm' });
  // The keys events record are PostgreSQL work of the fleet: a pool of their own, to measure it.
  const keys = createDb({ url: context.databaseUrl, max: 16, applicationName: KEYS_APPLICATION_NAME });
  const workers: WorkerProcess[] = [];
  const fleet = createProducer({ catalog, redisUrl: context.redisUrl, prefix, sql: keys.sql });
  const queueBackend = createRedisQueueBackend({ url: context.redisUrl, prefix });
  const queue = createRefreshQueue(queueBackend);
  try {
    for (let i = 0; i < 2; i += 1) {
      workers.push(await startWorkerProcess({ databaseUrl: context.databaseUrl, redisUrl: context.redisUrl, prefix }));
    }
    await vacuumChurned(context.db.sql, catalog);
    // Open every connection first: a backend's start-up is not work of the storm.
    await Promise.all(Array.from({ length: 16 }, () => [writers.sql`SELECT pg_sleep(0.02)`, keys.sql`SELECT pg_sleep(0.02)`]).flat());
    const memoryBefore = await usedMemory(context.redis);
    const readCpu = async () => ({
      workers: await backendCpuMs(await backendPids(context.db.sql, WORKER_APPLICATION_NAME)),
      keys: await backendCpuMs(await backendPids(context.db.sql, KEYS_APPLICATION_NAME)),
    });
    const cpuBefore = await readCpu();
    const [{ now: stormStart }] = await context.db.sql<[{ now: Date }]>`SELECT clock_timestamp() AS now`;

    context.log(`${options.label}: ${events.length} events over ${options.seconds} s, 2 worker processes`);
    const { sent, emitMs, wallMs } = await storm(context, writers.sql, options.capture ? { capture: options.capture } : { fleet }, events, options.seconds * 1000);
    const drainMs = await waitUntilDrained(context, queue, sent, options.label);
    const cpuAfter = await readCpu();
    const memoryAfter = await usedMemory(context.redis);
    const footprint = await prefixFootprint(context.redis, prefix);

    const cpu =
      cpuBefore.workers && cpuBefore.keys && cpuAfter.workers && cpuAfter.keys
        ? { workersMs: cpuBetween(cpuBefore.workers, cpuAfter.workers), keysMs: cpuBetween(cpuBefore.keys, cpuAfter.keys) }
        : null;
    const workerIds = workers.map((worker) => worker.workerId);
    return {
      events,
      sent: events.length,
      wallMs,
      emitMs,
      drainMs,
      log: await refreshLog(context.db.sql, stormStart, workerIds),
      cpu,
      lags: await freshnessLags(context.db.sql, sent, options.label),
      redis: { memoryBefore, memoryAfter, fleetKeys: footprint.keys, fleetBytes: footprint.bytes },
      windowsMs: Object.fromEntries(
        [...new Set(events.map((event) => event.name))].flatMap((name) => catalog.viewsForEvent(name)).map((view) => [view.name, view.coalesceWindowMs]),
      ),
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    await queue.close();
    await queueBackend.close();
    await fleet.close();
    await writers.close();
    await keys.close();
  }
}

/**
 * Adds a storm's figures under `prefix` (e.g. `storm.`): refreshes and their strategies per
 * view, PostgreSQL CPU per event, and the freshness lag per view.
 */
export function addStormFigures(out: ReturnType<typeof figureSet>, run: StormRun, prefix = ''): void {
  const add = (key: string, value: number, unit: Figure['unit'], label: string) => out.add(`${prefix}${key}`, value, unit, label);
  const emitted = run.emitMs.length > 0;
  add('events', run.sent, 'count', emitted ? 'events emitted (each a committed write + emit)' : 'writes committed (captured by triggers, no emit)');
  add('emit_wall_s', run.wallMs / 1000, 's', emitted ? 'time to emit them all' : 'time to commit them all');
  add('event_rate', run.sent / (run.wallMs / 1000), 'events/s', 'achieved event rate');
  if (emitted) {
    add('emit_p50_ms', quantile(run.emitMs, 0.5), 'ms', 'emit latency during the storm (records keys, enqueues), p50');
    add('emit_p99_ms', quantile(run.emitMs, 0.99), 'ms', 'emit latency during the storm, p99');
  }
  add('drain_ms', run.drainMs, 'ms', 'last event → queue empty and every event covered');

  let refreshes = 0;
  for (const row of run.log) {
    refreshes += row.success;
    const strategies = row.targeted > 0 ? `; ${row.targeted} targeted, ${row.keysRefreshed} keys drained` : '';
    add(`refreshes.${row.view}`, row.success, 'count', `${row.view}: successful refreshes (skipped ${row.skipped}, failed ${row.failed}${strategies})`);
    if (row.targeted > 0) {
      add(`keys_per_refresh.${row.view}`, ratio(row.keysRefreshed, row.success), 'x', `${row.view}: dirty keys drained per refresh`);
    }
  }
  add('refreshes.total', refreshes, 'count', 'successful refreshes, all views (cascade included)');
  add('events_per_refresh', ratio(run.sent, refreshes), 'x', 'events per refresh executed (target ≥ 100)');
  add('refresh_time_ms', sum(run.log.map((row) => row.durationMs)), 'ms', 'refresh time: sum of duration_ms of those refreshes');
  if (run.cpu) {
    add('worker_backend_cpu_ms', run.cpu.workersMs, 'ms', 'CPU of the workers\' PostgreSQL backends (/proc), storm + drain');
    if (emitted) add('keys_backend_cpu_ms', run.cpu.keysMs, 'ms', 'CPU of the backends recording the events\' keys (mvfleet.mv_dirty_keys inserts)');
    // With capture the keys are recorded by the writers' own backends, which are not counted here.
    add('pg_cpu_per_event_ms', (run.cpu.workersMs + run.cpu.keysMs) / run.sent, 'ms', emitted ? 'PostgreSQL CPU per event: workers + key recording' : 'PostgreSQL CPU of the workers per write');
  } else {
    out.note('PostgreSQL backends are not visible from here (/proc): only refresh time (sum of duration_ms) is reported.');
  }

  for (const [view, values] of Object.entries(run.lags)) {
    add(`lag.${view}.p50_ms`, quantile(values, 0.5), 'ms', `${view}: freshness lag p50`);
    add(`lag.${view}.p99_ms`, quantile(values, 0.99), 'ms', `${view}: freshness lag p99`);
    add(`lag.${view}.max_ms`, Math.max(...values), 'ms', `${view}: freshness lag max`);
  }
  const all = Object.values(run.lags).flat();
  add('lag.all.p50_ms', quantile(all, 0.5), 'ms', 'freshness lag p50, all events');
  add('lag.all.p99_ms', quantile(all, 0.99), 'ms', 'freshness lag p99, all events');
  add('lag.all.max_ms', Math.max(...all), 'ms', 'freshness lag max, all events');
  for (const [view, windowMs] of Object.entries(run.windowsMs)) {
    add(`coalesce_window_ms.${view}`, windowMs, 'ms', `${view}: coalescing window (catalog)`);
  }
  for (const row of run.log.filter((r) => r.success > 0)) {
    add(`refresh_p50_ms.${row.view}`, row.p50Ms, 'ms', `${row.view}: refresh duration p50 during the storm`);
    add(`refresh_max_ms.${row.view}`, row.maxMs, 'ms', `${row.view}: refresh duration max during the storm`);
  }
}

/** Events alternate between the two kinds; rows and keys come from the seeded data. */
export async function pickEvents(context: BenchContext, count: number): Promise<StormEvent[]> {
  const { sql } = context.db;
  const matches = await sql<{ id: number; tournament_id: number }[]>`
    SELECT id, tournament_id FROM matches ORDER BY id LIMIT 5000`;
  // Only paid invoices: `invoice.paid` names the day it was paid (the revenue view's month).
  const invoices = await sql<{ id: number; project_id: number; firm_id: number; paid_on: string }[]>`
    SELECT i.id, i.project_id, p.firm_id, to_char(i.paid_on, 'YYYY-MM-DD') AS paid_on
    FROM invoices i JOIN projects p ON p.id = i.project_id
    WHERE i.status = 'paid' AND i.paid_on IS NOT NULL
    ORDER BY i.id LIMIT 5000`;
  const random = seededRandom(23);
  return Array.from({ length: count }, (_, i): StormEvent => {
    if (i % 2 === 0) {
      const row = matches[Math.floor(random() * matches.length)]!;
      return { name: 'match.completed', rowId: row.id, payload: { tournamentId: row.tournament_id, matchId: row.id } };
    }
    const row = invoices[Math.floor(random() * invoices.length)]!;
    return {
      name: 'invoice.paid',
      rowId: row.id,
      payload: { firmId: row.firm_id, projectId: row.project_id, paidOn: row.paid_on, invoiceId: row.id },
    };
  });
}

/** The event's write: rewrites one row without changing what the views show, so the data stay comparable across runs. */
export async function write(sql: Sql, event: StormEvent): Promise<void> {
  if (event.name === 'match.completed') await sql`UPDATE matches SET updated_at = now() WHERE id = ${event.rowId}`;
  else await sql`UPDATE invoices SET paid_amount = paid_amount WHERE id = ${event.rowId}`;
}

/** Epoch milliseconds with sub-millisecond resolution, on the system clock PostgreSQL also reads. */
const epochMs = () => performance.timeOrigin + performance.now();

/**
 * Paces events evenly over `durationMs`, at most 64 in flight (as a busy app server would
 * have). With `capture` the writes alone go out: the views that capture the written table
 * cover them from their commit.
 */
async function storm(
  context: BenchContext,
  sql: Sql,
  via: { fleet: Producer } | { capture: Catalog },
  events: StormEvent[],
  durationMs: number,
): Promise<{ sent: Sent[]; emitMs: number[]; wallMs: number }> {
  const sent: Sent[] = [];
  const emitMs: number[] = [];
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
      if ('capture' in via) {
        for (const view of capturingViews(via.capture, event)) sent.push({ view, committedAt, coveredFrom: committedAt });
        return;
      }
      const { fleet } = via;
      const emitStart = performance.now();
      const handle = await fleet.emit(event.name, event.payload);
      emitMs.push(since(emitStart));
      // requestedAt is taken after the keys committed, at millisecond resolution: +1 ms rounds it up.
      const keysCommitted = handle.requestedAt.getTime() + 1;
      for (const view of context.catalog.viewsForEvent(event.name)) {
        sent.push({ view: view.name, committedAt, coveredFrom: view.keyed ? keysCommitted : committedAt });
      }
    })();
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  }
  await Promise.all(inFlight);
  return { sent, emitMs, wallMs: since(start) };
}

/** Views whose capture triggers record the event's write (the table `write` changes). */
function capturingViews(catalog: Catalog, event: StormEvent): string[] {
  const table = event.name === 'match.completed' ? 'matches' : 'invoices';
  return catalog.views.filter((view) => view.capture.some((source) => source.table === table)).map((view) => view.name);
}

/** Waits (deadline 5 min) until every event's view had a success after the event was covered and the queue is empty. */
async function waitUntilDrained(
  context: BenchContext,
  queue: ReturnType<typeof createRefreshQueue>,
  sent: Sent[],
  label: string,
): Promise<number> {
  const start = performance.now();
  const lastByView = new Map<string, number>();
  for (const s of sent) lastByView.set(s.view, Math.max(lastByView.get(s.view) ?? 0, s.coveredFrom));
  const deadline = Date.now() + 300_000;
  for (;;) {
    const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized', 'waiting-children');
    const pending = Object.values(counts).reduce((total, count) => total + count, 0);
    let covered = true;
    for (const [view, last] of lastByView) {
      const [row] = await context.db.sql<{ ok: boolean }[]>`
        SELECT EXISTS (SELECT 1 FROM mvfleet.mv_refresh_log WHERE view_name = ${view} AND status = 'success'
                       AND started_at >= to_timestamp(${last / 1000})) AS ok`;
      covered &&= row?.ok ?? false;
    }
    if (pending === 0 && covered) return since(start);
    if (Date.now() > deadline) throw new Error(`${label}: not drained after 5 min (${JSON.stringify(counts)})`);
    await delay(50);
  }
}
