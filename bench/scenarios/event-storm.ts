import { quoteIdent } from '../../src/core/identifiers.js';
import { figureSet, type BenchContext, type Scenario } from '../context.js';
import { refreshableName } from '../mv-copy.js';
import { mean, ratio, since, sum } from '../stats.js';
import { LAG_NOTE } from '../storm-log.js';
import { addStormFigures, runStorm, write, type StormEvent } from '../storm.js';

/**
 * 10,000 `invoice.paid` and `match.completed` events over 10 s (each a committed write then
 * an `emit` that records the event's keys) against two `mvfleet worker` processes: the keyed
 * views get targeted refreshes. Then the naive strategies on a sample.
 */
export const eventStormScenario: Scenario = async (context) => {
  const { workload } = context;
  const out = figureSet();
  const run = await runStorm(context, { label: 'event-storm', count: workload.stormEvents, seconds: workload.stormSeconds });
  addStormFigures(out, run);

  out.add('redis.used_memory_before_bytes', run.redis.memoryBefore, 'bytes', 'Redis used_memory before the storm');
  out.add('redis.used_memory_after_bytes', run.redis.memoryAfter, 'bytes', 'Redis used_memory after it drained');
  out.add('redis.growth_bytes', run.redis.memoryAfter - run.redis.memoryBefore, 'bytes', 'Redis used_memory growth (whole server: shared Redis adds noise)');
  out.add('redis.fleet_keys', run.redis.fleetKeys, 'count', 'keys under the storm\'s prefix after it drained');
  out.add('redis.fleet_bytes', run.redis.fleetBytes, 'bytes', 'MEMORY USAGE of those keys');

  await naiveStrategies(context, run.events, run.sent, sum(run.log.map((row) => row.durationMs)), run.wallMs, out);
  out.note(LAG_NOTE);
  out.note('The storm\'s writes rewrite one row each without changing what the views show (updated_at / paid_amount = paid_amount), so the data stay comparable across runs.');
  out.note('Naive strategies refresh MVs: a table-stored keyed view is stood in for by its MV copy (bench_mv_<view>, same definition, unique index).');
  return out;
};

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
    const targets = new Map<string, string[]>();
    for (const name of new Set(events.map((event) => event.name))) {
      const views = viewsWithCascade(context, name).map((view) => context.catalog.get(view));
      targets.set(name, await Promise.all(views.map((view) => refreshableName(context.db.sql, view))));
    }
    const refreshViews = async (event: StormEvent) => {
      const start = performance.now();
      for (const name of targets.get(event.name)!) {
        await connection.unsafe(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${quoteIdent(name)}`);
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
