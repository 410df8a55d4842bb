import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { createDb, type DbHandle, type Sql } from '../../src/core/db.js';
import { oneLine } from '../../src/core/errors.js';
import { createProducer, type Producer } from '../../src/producers/producer.js';
import { runCli } from '../../test/helpers/cli.js';
import { startRestartablePostgres, type RestartablePostgres } from '../../test/helpers/restartable-postgres.js';
import { startRestartableRedis, type RestartableRedis } from '../../test/helpers/restartable-redis.js';
import { figureSet, type BenchContext, type Scenario } from '../context.js';
import { withDatabase } from '../database.js';
import { FAULT_KINDS, injectFault, type Fault, type FaultKind } from '../fault-injection.js';
import { COVERAGE_NOTE, coverage, refreshTotals, waitForQuiet, type AckedEvent, type Coverage } from '../fault-log.js';
import { quantile } from '../stats.js';
import { pickEvents, write, type StormEvent } from '../storm.js';
import { startWorkerProcess, type WorkerProcess } from '../worker-processes.js';

/**
 * The event storm under faults: events (a committed write, then `emit` with `sql`) at a
 * modest rate against two `mvfleet worker` processes, while every few seconds a worker is
 * SIGKILLed (and a replacement started), PostgreSQL restarts (`-m fast`, `-m immediate`) or
 * Redis is killed and comes back empty. The scenario runs its own PostgreSQL and Redis (the
 * machine's are never touched), seeded at small scale. Reports acknowledged events that no
 * refresh ever covered (target 0) and the ack → covering refresh lag, overall and for events
 * acknowledged around a fault, measured from the fault's end (target: within 10 s).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DATABASE = 'mvfleet_faults';
/** Events acknowledged from a fault's start until this long after its end are "around" it. */
const AFTER_FAULT_MS = 10_000;
const QUIET_DEADLINE_MS = 120_000;

const epochMs = () => performance.timeOrigin + performance.now();

export const faultsScenario: Scenario = async (context) => {
  const workload = context.workload.faults;
  const out = figureSet();
  const workers: WorkerProcess[] = [];
  let postgres: RestartablePostgres | undefined;
  let redis: RestartableRedis | undefined;
  let db: DbHandle | undefined;
  let writers: DbHandle | undefined;
  let producer: Producer | undefined;
  let load: ReturnType<typeof emitEvents> | undefined;
  const stopLoad = new AbortController();
  try {
    context.log('faults: starting a PostgreSQL and a Redis of its own');
    postgres = await startRestartablePostgres();
    redis = await startRestartableRedis();
    const databaseUrl = await seededDatabase(context, postgres.url, redis.url);
    const prefix = context.prefix('faults');
    const redisUrl = redis.url;
    const startWorker = () => startWorkerProcess({ databaseUrl, redisUrl, prefix });
    workers.push(await startWorker(), await startWorker());

    db = createDb({ url: databaseUrl, max: 2, applicationName: 'mvfleet-bench' });
    writers = createDb({ url: databaseUrl, max: 16, applicationName: 'mvfleet-bench-faults' });
    producer = createProducer({ catalog: context.catalog, redisUrl, prefix, sql: writers.sql });
    const events = await pickEvents({ ...context, db }, Math.round(workload.seconds * workload.rate));
    const [{ now: loadStart }] = await db.sql<[{ now: Date }]>`SELECT clock_timestamp() AS now`;

    context.log(`faults: ${events.length} events over ${workload.seconds} s, a fault every ${workload.faultEveryMs / 1000} s`);
    const started = performance.now();
    load = emitEvents(context, writers.sql, producer, events, workload.seconds * 1000, stopLoad.signal);
    const faults: Fault[] = [];
    const targets = { postgres, redis, workers, startWorker };
    // The last fault ends early enough for a full window of events after it.
    for (let i = 0; (i + 0.5) * workload.faultEveryMs + AFTER_FAULT_MS < workload.seconds * 1000; i += 1) {
      const wait = started + (i + 0.5) * workload.faultEveryMs - performance.now();
      if (wait > 0) await delay(wait);
      const kind = FAULT_KINDS[i % FAULT_KINDS.length]!;
      const fault = await injectFault(kind, targets, i);
      context.log(`faults: ${kind} (${Math.round(fault.endedAt - fault.startedAt)} ms)`);
      faults.push(fault);
    }
    const { acked, writeFailures, emitFailures } = await load;
    const loadMs = performance.now() - started;

    context.log('faults: waiting for every request to be refreshed');
    const quietMs = await waitForQuiet(db.sql, QUIET_DEADLINE_MS);
    const covered = await coverage(db.sql, acked);
    const refreshes = await refreshTotals(db.sql, loadStart);
    out.add('events.sent', events.length, 'count', 'events attempted (a committed write, then emit with sql)');
    out.add('events.acknowledged', acked.length, 'count', 'events emit acknowledged');
    out.add('events.write_failed', writeFailures, 'count', 'writes that failed (PostgreSQL down): no event, nothing to refresh');
    out.add('events.emit_failed', emitFailures, 'count', 'emits that rejected (the app is told; its request may still be recorded)');
    out.add('events.lost', covered.filter((event) => event.coveredAt === null).length, 'count', 'acknowledged events never covered by a refresh (target 0)');
    out.add('load_s', loadMs / 1000, 's', 'load with faults, wall time');
    out.add('quiet_ms', quietMs ?? Number.NaN, 'ms', 'load end → no request, dirty key or running refresh left');
    addLagFigures(out, covered, faults);
    out.add('refreshes.success', refreshes.success, 'count', 'successful refreshes during load and drain');
    out.add('refreshes.failed', refreshes.failed, 'count', 'failed refresh attempts (faults end them)');
    out.add('refreshes.skipped', refreshes.skipped, 'count', 'skipped refresh attempts');

    out.note(COVERAGE_NOTE);
    out.note(`Own PostgreSQL (embedded, pg_ctl) and Redis (redis-server, no persistence), seeded at small scale; ${workers.length} worker processes.`);
    out.note('Targets: events.lost = 0; after_fault.lag_from_end_p99_ms ≤ 10,000 (a covering refresh within 10 s of the fault ending).');
    if (quietMs === null) out.note(`Requests were still waiting ${QUIET_DEADLINE_MS / 1000} s after the load.`);
    return out;
  } finally {
    // A fault that failed leaves the load running: stop it before its pools close.
    stopLoad.abort();
    await load?.catch(() => {});
    await producer?.close().catch(() => {});
    await writers?.close().catch(() => {});
    await db?.close().catch(() => {});
    await Promise.all(workers.map((worker) => worker.stop(5_000).catch(() => {})));
    await redis?.stop();
    await postgres?.stop();
  }
};

/** Creates the scenario's database on its own server, then `mvfleet migrate` and `seed --scale small` as an operator would. */
async function seededDatabase(context: BenchContext, serverUrl: string, redisUrl: string): Promise<string> {
  const admin = createDb({ url: serverUrl, max: 1, applicationName: 'mvfleet-bench' });
  try {
    await admin.sql.unsafe(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.close();
  }
  const url = withDatabase(serverUrl, DATABASE);
  const env = { DATABASE_URL: url, REDIS_URL: redisUrl, MVFLEET_PREFIX: '{mvfleet-bench-faults-setup}' };
  for (const args of [['migrate'], ['seed', '--scale', 'small']]) {
    context.log(`faults: mvfleet ${args.join(' ')}`);
    const result = await runCli(args, env, { cwd: ROOT, timeoutMs: 300_000 });
    if (result.code !== 0) throw new Error(`mvfleet ${args.join(' ')} failed: ${result.stderr.slice(-2_000)}`);
  }
  return url;
}

/**
 * Paces events evenly over `durationMs`, at most 64 in flight; records each acknowledged
 * event. A write or emit that fails (a fault in progress) is counted, not retried.
 */
async function emitEvents(
  context: BenchContext,
  sql: Sql,
  producer: Producer,
  events: StormEvent[],
  durationMs: number,
  signal: AbortSignal,
) {
  const acked: AckedEvent[] = [];
  let writeFailures = 0;
  let emitFailures = 0;
  const errors = new Map<string, number>();
  const tally = (stage: string, error: unknown) => {
    const key = `${stage}: ${oneLine(error).slice(0, 100)}`;
    errors.set(key, (errors.get(key) ?? 0) + 1);
  };
  const interval = durationMs / events.length;
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (const [i, event] of events.entries()) {
    if (signal.aborted) break;
    const wait = start + i * interval - performance.now();
    if (wait > 1) await delay(wait);
    while (inFlight.size >= 64) await Promise.race(inFlight);
    const task = (async () => {
      try {
        await write(sql, event);
      } catch (error) {
        writeFailures += 1;
        tally('write', error);
        return;
      }
      const committedAt = epochMs();
      try {
        const handle = await producer.emit(event.name, event.payload);
        const ackAt = epochMs();
        // requestedAt is taken after the keys committed, at millisecond resolution: +1 ms rounds it up.
        const keysCommitted = handle.requestedAt.getTime() + 1;
        const views = handle.views.map((view) => ({ view, coveredFrom: context.catalog.get(view).keyed ? keysCommitted : committedAt }));
        acked.push({ ackAt, views });
      } catch (error) {
        emitFailures += 1;
        tally('emit', error);
      }
    })();
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  }
  await Promise.all(inFlight);
  for (const [message, count] of errors) context.log(`faults: ${count} × ${message}`);
  return { acked, writeFailures, emitFailures };
}

/**
 * Lag of every acknowledged event (ack → start of its covering refresh), and for the events
 * acknowledged from a fault's start to 10 s after its end (or the next fault's start), the lag
 * from the later of the ack and the fault's end: how long the fleet took to catch up once the
 * service was back.
 */
function addLagFigures(out: ReturnType<typeof figureSet>, covered: Coverage[], faults: Fault[]): void {
  const done = covered.filter((event): event is Coverage & { coveredAt: number } => event.coveredAt !== null);
  const lags = done.map((event) => Math.max(0, event.coveredAt - event.ackAt));
  out.add('lag.p50_ms', quantile(lags, 0.5), 'ms', 'ack → covering refresh start, p50, all events');
  out.add('lag.p99_ms', quantile(lags, 0.99), 'ms', 'ack → covering refresh start, p99, all events');
  out.add('lag.max_ms', Math.max(...lags), 'ms', 'ack → covering refresh start, max, all events');
  const byView = new Map<string, number[]>();
  for (const event of covered) {
    for (const { view, coveredAt } of event.views) {
      if (coveredAt === null) continue;
      if (!byView.has(view)) byView.set(view, []);
      byView.get(view)!.push(Math.max(0, coveredAt - event.ackAt));
    }
  }
  for (const [view, values] of [...byView].sort(([a], [b]) => a.localeCompare(b))) {
    out.add(`lag.${view}.p99_ms`, quantile(values, 0.99), 'ms', `${view}: ack → covering refresh start, p99`);
  }

  const fromEnd: number[] = [];
  const byKind = new Map<FaultKind, number[]>();
  for (const [i, fault] of faults.entries()) {
    // An event belongs to the last fault that started before its ack.
    const until = Math.min(fault.endedAt + AFTER_FAULT_MS, faults[i + 1]?.startedAt ?? Number.POSITIVE_INFINITY);
    const around = done.filter((event) => event.ackAt >= fault.startedAt && event.ackAt < until);
    const values = around.map((event) => Math.max(0, event.coveredAt - Math.max(event.ackAt, fault.endedAt)));
    fromEnd.push(...values);
    if (!byKind.has(fault.kind)) byKind.set(fault.kind, []);
    byKind.get(fault.kind)!.push(...values);
  }
  out.add('faults.count', faults.length, 'count', 'faults injected');
  for (const kind of FAULT_KINDS) {
    const ofKind = faults.filter((fault) => fault.kind === kind);
    out.add(`faults.${kind}.count`, ofKind.length, 'count', `${kind}: faults injected`);
    if (ofKind.length === 0) continue;
    out.add(`faults.${kind}.duration_max_ms`, Math.max(...ofKind.map((f) => f.endedAt - f.startedAt)), 'ms', `${kind}: fault start → service answering again, max`);
    out.add(`after_fault.${kind}.lag_from_end_max_ms`, Math.max(...(byKind.get(kind) ?? [])), 'ms', `${kind}: events around it, lag from the fault's end, max`);
  }
  out.add('after_fault.events', fromEnd.length, 'count', `events acknowledged from a fault's start to ${AFTER_FAULT_MS / 1000} s after its end (or the next fault)`);
  out.add('after_fault.lag_from_end_p99_ms', quantile(fromEnd, 0.99), 'ms', 'those events: covering refresh start − max(ack, fault end), p99 (target ≤ 10 s)');
  out.add('after_fault.lag_from_end_max_ms', Math.max(...fromEnd), 'ms', 'those events: the same, max');
}
