import type { Sql } from '../../src/core/db.js';
import { quoteIdent } from '../../src/core/identifiers.js';
import { figureSet, type BenchContext, type Scenario } from '../context.js';
import { startInProcessFleet, type InProcessFleet } from '../in-process-fleet.js';
import { ensureMvCopy } from '../mv-copy.js';
import { flipMatches } from '../source-changes.js';
import { median, quantile, ratio, seededRandom, shuffled, since } from '../stats.js';

type Contender = 'bare' | 'fleet' | 'plain';

/** Views whose bare refresh is faster than this give a paired overhead that noise does not swamp. */
const CHEAP_REFRESH_MS = 250;

/**
 * What the fleet adds to a refresh. Per MV (table-stored keyed views are the targeted scenario's), rounds of three contenders in rotating order:
 * the bare `REFRESH … CONCURRENTLY` over one connection, the same refresh requested through
 * the fleet (request → success, one idle in-process worker, no coalescing window as
 * `fleet.refresh` enqueues without delay), and a bare plain `REFRESH`. Then plain vs
 * CONCURRENTLY on the tournament view's MV copy with no change and with 1 % of tournaments changed.
 */
export const refreshOverheadScenario: Scenario = async (context) => {
  const { catalog, db, workload } = context;
  const out = figureSet();
  const inProcess = await startInProcessFleet({
    databaseUrl: context.databaseUrl,
    redisUrl: context.redisUrl,
    prefix: context.prefix('overhead'),
    catalog,
  });
  const bareConnection = await db.sql.reserve();
  // Overhead is only resolvable where run-to-run noise of the refresh itself is smaller than it.
  const cheapOverhead: number[] = [];
  const pooled = { overhead: [] as number[], pickup: [] as number[], queue: [] as number[], inRefresh: [] as number[], afterCommit: [] as number[] };
  try {
    for (const view of catalog.views.filter((candidate) => candidate.storage === 'materialized')) {
      const samples: Record<Contender, number[]> = { bare: [], fleet: [], plain: [] };
      const overhead: number[] = [];
      const started = performance.now();
      for (let round = 0; round < workload.overheadRounds.max; round += 1) {
        if (round >= workload.overheadRounds.min && since(started) > workload.overheadRounds.budgetMs) break;
        const order: Contender[] = rotate(['bare', 'fleet', 'plain'], round);
        const times: Partial<Record<Contender, number>> = {};
        let fleetRun: Awaited<ReturnType<typeof refreshThroughFleet>> | undefined;
        for (const contender of order) {
          if (contender === 'fleet') {
            fleetRun = await refreshThroughFleet(inProcess, context, view.name);
            times.fleet = fleetRun.totalMs;
          } else {
            times[contender] = await bareRefresh(bareConnection, view.name, contender === 'bare');
          }
        }
        for (const contender of order) samples[contender].push(times[contender]!);
        pooled.pickup.push(fleetRun!.pickupMs);
        if (Number.isFinite(fleetRun!.queueMs)) pooled.queue.push(fleetRun!.queueMs);
        // The executor's duration minus the bare statement: fence, log rows, mode check, row count.
        pooled.inRefresh.push(fleetRun!.durationMs - times.bare!);
        pooled.afterCommit.push(fleetRun!.totalMs - fleetRun!.pickupMs - fleetRun!.durationMs);
        overhead.push(times.fleet! - times.bare!);
      }
      pooled.overhead.push(...overhead);
      context.log(`refresh-overhead: ${view.name}: ${overhead.length} rounds`);
      const bare = median(samples.bare);
      const fleet = median(samples.fleet);
      if (bare < CHEAP_REFRESH_MS) cheapOverhead.push(...overhead);
      out.add(`${view.name}.bare_concurrent_p50_ms`, bare, 'ms', `${view.name}: bare REFRESH CONCURRENTLY p50`);
      out.add(`${view.name}.fleet_p50_ms`, fleet, 'ms', `${view.name}: through the fleet (request → success) p50`);
      out.add(`${view.name}.overhead_p50_ms`, median(overhead), 'ms', `${view.name}: fleet − bare, median of paired rounds`);
      out.add(`${view.name}.overhead_ratio`, ratio(fleet, bare), 'x', `${view.name}: fleet / bare at p50`);
      out.add(`${view.name}.bare_plain_p50_ms`, median(samples.plain), 'ms', `${view.name}: bare plain REFRESH p50 (no change)`);
    }
    out.add('all.overhead_p50_ms', median(pooled.overhead), 'ms', 'all views: fleet − bare, median of paired rounds');
    out.add('cheap.overhead_p50_ms', median(cheapOverhead), 'ms', `views refreshing in < ${CHEAP_REFRESH_MS} ms: fleet − bare, median of paired rounds`);
    out.add('cheap.rounds', cheapOverhead.length, 'count', `paired rounds on views refreshing in < ${CHEAP_REFRESH_MS} ms`);
    out.add('all.overhead_p99_ms', quantile(pooled.overhead, 0.99), 'ms', 'all views: fleet − bare, p99 of paired rounds');
    out.add('all.pickup_p50_ms', median(pooled.pickup), 'ms', 'pickup: log started_at − request time, p50');
    out.add('all.pickup_p99_ms', quantile(pooled.pickup, 0.99), 'ms', 'pickup: log started_at − request time, p99');
    out.add('all.pickup_queue_p50_ms', median(pooled.queue), 'ms', 'pickup, queue part: job processedOn − request time, p50 (1 ms resolution)');
    out.add('all.pickup_queue_p99_ms', quantile(pooled.queue, 0.99), 'ms', 'pickup, queue part: job processedOn − request time, p99');
    out.add('all.in_refresh_overhead_p50_ms', median(pooled.inRefresh), 'ms', 'executor duration (started_at → success) − bare refresh of the round, p50');
    out.add('all.after_commit_p50_ms', median(pooled.afterCommit), 'ms', 'success event − (started_at + duration), p50');
    out.add('all.fleet_samples', pooled.pickup.length, 'count', 'fleet requests measured');
    await modesWithChanges(context, bareConnection, out);
  } finally {
    bareConnection.release();
    await inProcess.close();
  }
  out.note('Overhead = (request → log success seen by the worker) − bare REFRESH CONCURRENTLY over one connection, paired per round.');
  out.note('Pickup = mvfleet.mv_refresh_log.started_at − request time (both on this machine\'s clock); it includes the fence, the log insert and the mode check that precede the REFRESH.');
  return out;
};

function rotate<T>(items: T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

async function bareRefresh(connection: Sql, view: string, concurrently: boolean): Promise<number> {
  const statement = `REFRESH MATERIALIZED VIEW ${concurrently ? 'CONCURRENTLY ' : ''}${quoteIdent(view)}`;
  const start = performance.now();
  await connection.unsafe(statement);
  return since(start);
}

async function refreshThroughFleet(inProcess: InProcessFleet, context: BenchContext, view: string) {
  const downstream = context.catalog.downstreamOf(view).map((v) => v.name);
  const success = inProcess.nextSuccess(view);
  // The cascade would otherwise still be running during the next round's bare refresh.
  const cascades = downstream.map((name) => inProcess.nextSuccess(name));
  const start = performance.now();
  const handle = await inProcess.fleet.refresh(view, { detail: 'bench refresh-overhead' });
  const done = await success;
  await Promise.all(cascades);
  const processedOn = done.request.jobId ? await inProcess.processedOn(done.request.jobId) : undefined;
  return {
    totalMs: done.at - start,
    queueMs: processedOn === undefined ? Number.NaN : processedOn - handle.requestedAt.getTime(),
    pickupMs: done.startedAt.getTime() - handle.requestedAt.getTime(),
    durationMs: done.durationMs,
  };
}

/**
 * Plain vs CONCURRENTLY on the tournament view's definition as an MV (the view itself is a
 * table), interleaved: with no data change, and after flipping one match's state in 1 % of
 * tournaments (a different 1 % each time; flipping between completed and disputed keeps the
 * data's shape across runs).
 */
async function modesWithChanges(context: BenchContext, connection: Sql, out: ReturnType<typeof figureSet>) {
  const view = await ensureMvCopy(context.db.sql, context.catalog.get('tournament_analytics_summary'));
  const ids = (await context.db.sql<{ id: number }[]>`SELECT id FROM tournaments ORDER BY id`).map((row) => row.id);
  const changed = Math.max(1, Math.round(ids.length / 100));
  const keys = shuffled(ids, seededRandom(11));
  let cursor = 0;
  const nextKeys = () => {
    const batch = Array.from({ length: changed }, (_, i) => keys[(cursor + i) % keys.length]!);
    cursor += changed;
    return batch;
  };
  const samples = { 'unchanged.plain': [] as number[], 'unchanged.concurrent': [] as number[], 'changed.plain': [] as number[], 'changed.concurrent': [] as number[] };
  for (let round = 0; round < context.workload.modeRounds; round += 1) {
    const modes = round % 2 === 0 ? (['plain', 'concurrent'] as const) : (['concurrent', 'plain'] as const);
    for (const mode of modes) samples[`unchanged.${mode}`].push(await bareRefresh(connection, view, mode === 'concurrent'));
    for (const mode of modes) {
      await flipMatches(context.db.sql, nextKeys());
      samples[`changed.${mode}`].push(await bareRefresh(connection, view, mode === 'concurrent'));
    }
  }
  context.log(`refresh-overhead: plain vs CONCURRENTLY, ${context.workload.modeRounds} rounds, ${changed} tournaments changed per refresh`);
  for (const [key, values] of Object.entries(samples)) {
    const [state, mode] = key.split('.');
    out.add(`modes.${key}_p50_ms`, median(values), 'ms', `${view}: ${mode} REFRESH, ${state === 'changed' ? '1 % of keys changed' : 'no change'}, p50`);
  }
  out.add('modes.changed_keys', changed, 'count', 'tournaments changed before each "1 %" refresh');
  out.add(
    'modes.concurrent_over_plain_changed',
    ratio(median(samples['changed.concurrent']), median(samples['changed.plain'])),
    'x',
    'CONCURRENTLY / plain, 1 % changed',
  );
}
