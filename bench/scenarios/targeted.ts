import os from 'node:os';
import type { CatalogView } from '../../src/catalog/catalog.js';
import { createDb, type DbHandle } from '../../src/core/db.js';
import type { KeyTuple } from '../../src/catalog/event-keys.js';
import { quoteIdent } from '../../src/core/identifiers.js';
import { recordDirtyKeys } from '../../src/store/pending-requests.js';
import { recomputeKeys } from '../../src/workers/keyed-refresh-sql.js';
import { createRefreshExecutor, type RefreshExecutor, type RefreshOutcome } from '../../src/workers/refresh-executor.js';
import { backendPids, measureWork } from '../backend-cpu.js';
import { figureSet, type BenchContext, type Scenario } from '../context.js';
import { vacuumChurned } from '../database.js';
import { ensureMvCopy } from '../mv-copy.js';
import { keyedSources, type KeyedSource } from '../source-changes.js';
import { mean, quantile, ratio, seededRandom, shuffled, since } from '../stats.js';
import { LAG_NOTE } from '../storm-log.js';
import { addStormFigures, runStorm } from '../storm.js';

/**
 * The measured refreshes: a targeted one of 1 and of many keys, the same recompute of 1 key
 * without the executor, a full CONCURRENTLY of the MV copy, the table's full rebuild.
 */
type Kind = 'targeted_1key' | 'targeted_many' | 'recompute_1key' | 'full_concurrent_mv' | 'full_rebuild';
const KINDS: readonly Kind[] = ['targeted_1key', 'targeted_many', 'recompute_1key', 'full_concurrent_mv', 'full_rebuild'];

/** The pool whose backends' CPU is measured; nothing else uses this application name. */
const MEASURED_APPLICATION_NAME = 'mvfleet-bench-targeted';

type Out = ReturnType<typeof figureSet>;

const loadAverage = () => os.loadavg().map((value) => value.toFixed(2)).join(' ');

/**
 * What a targeted refresh saves. Per keyed (table-stored) view, interleaved rounds of: a
 * targeted refresh of 1 dirty key and of 100 dirty keys through the executor (each after a
 * real change to the keys' sources, recorded in `mvfleet.mv_dirty_keys` as an event would); a full
 * `REFRESH MATERIALIZED VIEW CONCURRENTLY` of an MV over the same definition; the table's own
 * full diff-apply rebuild. Then the event storm replayed against worker processes: PostgreSQL
 * CPU per event and freshness lag per keyed view.
 */
export const targetedScenario: Scenario = async (context) => {
  const { catalog, workload } = context;
  const out = figureSet();
  const measured = createDb({ url: context.databaseUrl, max: 2, applicationName: MEASURED_APPLICATION_NAME });
  const executor = createRefreshExecutor({ sql: measured.sql, catalog, workerId: 'bench-targeted' });
  try {
    for (const view of catalog.views.filter((candidate) => candidate.keyed && candidate.storage === 'table')) {
      const source = keyedSources[view.name];
      if (!source) {
        out.note(`${view.name}: no source change is defined for it in bench/source-changes.ts; not measured`);
        continue;
      }
      addViewFigures(out, view, await measureView(context, { measured, executor, view, source }), workload.targeted.manyKeys);
    }
  } finally {
    await measured.close();
  }

  const before = loadAverage();
  const run = await runStorm(context, { label: 'targeted-storm', count: workload.stormEvents, seconds: workload.stormSeconds });
  addStormFigures(out, run, 'storm.');
  out.note(`storm replay: load average ${before} before, ${loadAverage()} after`);
  out.note(LAG_NOTE);
  out.note(
    'Targeted and full-rebuild times are executor.refresh() wall times (fence, log rows, drain, recompute, commit); ' +
      'full CONCURRENTLY is the bare statement on the MV copy bench_mv_<view> (same definition, unique index on the unique key).',
  );
  out.note(
    'CPU per refresh: /proc utime+stime of the measuring pool\'s backends, plus their parallel workers sampled every 10 ms ' +
      '(CPU a parallel worker spends after its last sample is missed). Mean per refresh; the kernel counts in 10 ms ticks.',
  );
  return out;
};

interface ViewRun {
  measured: DbHandle;
  executor: RefreshExecutor;
  view: CatalogView;
  source: KeyedSource;
}

/** What {@link measureView} measured on one view. */
interface ViewSamples {
  rows: number;
  manyKeys: number;
  rounds: number;
  samples: Record<Kind, { ms: number[]; cpu: number[] }>;
  /** Rows the full rebuilds corrected: 0 unless a change went unannounced. */
  corrected: number;
  load: { before: string; after: string };
}

async function measureView(context: BenchContext, run: ViewRun): Promise<ViewSamples> {
  const { measured, executor, view, source } = run;
  const { targeted } = context.workload;
  const sql = context.db.sql;
  const copy = await ensureMvCopy(sql, view);
  const keys = shuffled(await source.keys(sql), seededRandom(31));
  let cursor = 0;
  const nextKeys = (count: number): KeyTuple[] => {
    const batch = Array.from({ length: count }, (_, i) => keys[(cursor + i) % keys.length]!);
    cursor += count;
    return batch;
  };

  // A full rebuild first: it drains keys left by earlier scenarios and corrects their unannounced changes.
  const warm = await executor.refresh({ view: view.name, reason: 'manual', triggerDetail: 'bench targeted warm-up' });
  if (warm.status !== 'success') throw new Error(`targeted: warm-up refresh of ${view.name} was ${warm.status}`);
  await measured.sql.unsafe(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${quoteIdent(copy)}`);
  await vacuumChurned(sql, context.catalog);
  const rows = warm.rowsAfter;
  // More keys than fullRebuildShare of the rows would get a full rebuild instead.
  const manyKeys = Math.min(targeted.manyKeys, Math.floor(view.keyed!.fullRebuildShare * rows), keys.length);

  /** A real change to the keys' sources, announced as their event would. */
  const changeAndRecord = async (batch: KeyTuple[]) => {
    await source.change(sql, batch);
    await recordDirtyKeys(sql, context.catalog.store, source.event, batch.map((key) => ({ view: view.name, key })));
  };
  const expectOutcome = (outcome: RefreshOutcome, strategy: 'targeted' | 'full', drained: number) => {
    if (outcome.status !== 'success' || outcome.strategy !== strategy || outcome.keysRefreshed !== drained) {
      const got = outcome.status === 'success' ? `${outcome.strategy} of ${outcome.keysRefreshed} keys` : outcome.status;
      throw new Error(`targeted: expected a ${strategy} refresh of ${view.name} draining ${drained} keys, got ${got}`);
    }
    return outcome;
  };
  const targetedRefresh = (drained: number) => async () =>
    expectOutcome(await executor.refresh({ view: view.name, reason: 'event', triggerDetail: source.event, scope: 'keys' }), 'targeted', drained);

  const samples = Object.fromEntries(KINDS.map((kind) => [kind, { ms: [] as number[], cpu: [] as number[] }])) as Record<
    Kind,
    { ms: number[]; cpu: number[] }
  >;
  let corrected = 0;
  const measure = async (kind: Kind, work: () => Promise<unknown>) => {
    const result = await measureWork(sql, await backendPids(sql, MEASURED_APPLICATION_NAME), work);
    samples[kind].ms.push(result.ms);
    if (result.cpuMs !== null) samples[kind].cpu.push(result.cpuMs);
    return result.value;
  };
  const steps: Record<Kind, () => Promise<void>> = {
    async targeted_1key() {
      for (let i = 0; i < targeted.oneKeyPerRound; i += 1) {
        await changeAndRecord(nextKeys(1));
        await measure('targeted_1key', targetedRefresh(1));
      }
    },
    async targeted_many() {
      for (let i = 0; i < targeted.manyKeysPerRound; i += 1) {
        await changeAndRecord(nextKeys(manyKeys));
        await measure('targeted_many', targetedRefresh(manyKeys));
      }
    },
    async recompute_1key() {
      // What the executor adds (fence, log rows, drain) shows as targeted_1key minus this.
      for (let i = 0; i < targeted.oneKeyPerRound; i += 1) {
        const batch = nextKeys(1);
        await source.change(sql, batch);
        await measure('recompute_1key', () => measured.sql.begin((tx) => recomputeKeys(tx, view, batch)));
      }
    },
    async full_concurrent_mv() {
      await measure('full_concurrent_mv', () => measured.sql.unsafe(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${quoteIdent(copy)}`));
    },
    async full_rebuild() {
      // The same announced change as a 1-key targeted refresh, done by a whole-view rebuild.
      await changeAndRecord(nextKeys(1));
      const outcome = (await measure('full_rebuild', async () =>
        expectOutcome(await executor.refresh({ view: view.name, reason: 'manual', triggerDetail: 'bench targeted' }), 'full', 1),
      )) as Extract<RefreshOutcome, { status: 'success' }>;
      corrected += outcome.rowsCorrected ?? 0;
    },
  };

  const loadBefore = loadAverage();
  const started = performance.now();
  let rounds = 0;
  for (; rounds < targeted.rounds.max; rounds += 1) {
    if (rounds >= targeted.rounds.min && since(started) > targeted.rounds.budgetMs) break;
    // Rotate the order so cache warmth left by the full refreshes lands on every kind alike.
    for (let i = 0; i < KINDS.length; i += 1) await steps[KINDS[(i + rounds) % KINDS.length]!]();
  }
  context.log(`targeted: ${view.name}: ${rounds} rounds`);
  return { rows, manyKeys, rounds, samples, corrected, load: { before: loadBefore, after: loadAverage() } };
}

function addViewFigures(out: Out, view: CatalogView, measured: ViewSamples, wanted: number): void {
  const { rows, manyKeys, rounds, samples, corrected, load } = measured;
  const name = view.name;
  if (manyKeys < wanted) {
    out.note(`${name}: ${rows} rows, so a targeted refresh takes at most ${manyKeys} keys (fullRebuildShare ${view.keyed!.fullRebuildShare}); "many" is ${manyKeys}`);
  }
  out.add(`${name}.rows`, rows, 'count', `${name}: rows`);
  out.add(`${name}.many_keys`, manyKeys, 'count', `${name}: keys in a "many keys" targeted refresh`);
  const labels: Record<Kind, string> = {
    targeted_1key: 'targeted refresh, 1 dirty key',
    targeted_many: `targeted refresh, ${manyKeys} dirty keys`,
    recompute_1key: 'recompute of 1 key without the executor (the upsert-and-delete statement in a transaction)',
    full_concurrent_mv: 'full REFRESH MATERIALIZED VIEW CONCURRENTLY of the MV copy',
    full_rebuild: 'full diff-apply rebuild of the table (executor)',
  };
  for (const kind of KINDS) {
    const { ms, cpu } = samples[kind];
    out.add(`${name}.${kind}.p50_ms`, quantile(ms, 0.5), 'ms', `${name}: ${labels[kind]}, p50 (n=${ms.length})`);
    out.add(`${name}.${kind}.p95_ms`, quantile(ms, 0.95), 'ms', `${name}: ${labels[kind]}, p95`);
    if (cpu.length > 0) out.add(`${name}.${kind}.cpu_ms`, mean(cpu), 'ms', `${name}: ${labels[kind]}, PostgreSQL CPU per refresh (mean)`);
  }
  const p50 = (kind: Kind) => quantile(samples[kind].ms, 0.5);
  out.add(`${name}.ratio.concurrent_over_1key`, ratio(p50('full_concurrent_mv'), p50('targeted_1key')), 'x', `${name}: full CONCURRENTLY / targeted 1 key, at p50 (target ≥ 100× at medium)`);
  out.add(`${name}.ratio.concurrent_over_recompute_1key`, ratio(p50('full_concurrent_mv'), p50('recompute_1key')), 'x', `${name}: full CONCURRENTLY / recompute of 1 key without the executor, at p50`);
  out.add(`${name}.ratio.concurrent_over_many`, ratio(p50('full_concurrent_mv'), p50('targeted_many')), 'x', `${name}: full CONCURRENTLY / targeted ${manyKeys} keys, at p50`);
  out.add(`${name}.ratio.rebuild_over_1key`, ratio(p50('full_rebuild'), p50('targeted_1key')), 'x', `${name}: full rebuild / targeted 1 key, at p50`);
  const cpuMean = (kind: Kind) => mean(samples[kind].cpu);
  if (samples.targeted_1key.cpu.length > 0) {
    out.add(`${name}.ratio.cpu_concurrent_over_1key`, ratio(cpuMean('full_concurrent_mv'), cpuMean('targeted_1key')), 'x', `${name}: CPU of full CONCURRENTLY / CPU of targeted 1 key`);
  }
  out.note(`${name}: ${rounds} rounds, load average ${load.before} before, ${load.after} after`);
  if (corrected > 0) out.note(`${name}: full rebuilds corrected ${corrected} rows no event announced (expected 0: every change was recorded)`);
}
