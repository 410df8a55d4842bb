import type { CatalogView } from '../../src/catalog/catalog.js';
import type { Queryable } from '../../src/core/db.js';
import { createPostgresQueueBackend, createRedisQueueBackend, type QueueBackend } from '../../src/queue/queue-backend.js';
import { createProducer } from '../../src/producers/producer.js';
import { quoteQualified } from '../../src/store/engine-schema.js';
import { JOB_NAMES, parseRefreshJob, refreshJobOptions } from '../../src/queue/job-contract.js';
import { createRefreshQueue } from '../../src/queue/refresh-queue.js';
import { figureSet, type BenchContext, type Scenario } from '../context.js';
import { quantile, ratio, since } from '../stats.js';

type Pattern = 'sequential' | 'concurrent';

const CONCURRENCY = 64;

/** The event of the durability contenders, and the one MATERIALIZED VIEW it maps to (no keys: a whole-view request). */
const MV_EVENT = 'import.finished';
const MV_VIEW = 'referensi_ahsp_stats';

/** Something that sends one request; closed after the scenario. */
interface Contender {
  key: string;
  label: string;
  send(i: number): Promise<unknown>;
  close(): Promise<void>;
}

/** What the blocks of one contender and pattern measured. */
interface Sample {
  latencies: number[];
  emits: number;
  ms: number;
}

/**
 * `emit` throughput and latency on both queue backends, sequentially and 64 at a time,
 * beside BullMQ's own `Queue.add` with the same job options on Redis (what the SDK costs on
 * top of BullMQ). On Redis, an event of one MATERIALIZED VIEW is emitted twice over: without
 * `sql`, and durable (with `sql`: the request is recorded in `mv_pending_requests` before
 * its job is added, and one that joins a waiting request adds none), each against
 * `Queue.add` with that view's job options. Blocks of each contender alternate so all see the
 * same machine noise. No worker runs: every emit after the first joins the pending request
 * and its coalesced job, which is the path an app's hot loop takes.
 */
export const producerScenario: Scenario = async (context) => {
  const { workload } = context;
  const out = figureSet();
  const contenders = openContenders(context);
  const samples = new Map<string, Sample>();
  try {
    const perBlock = Math.max(1, Math.floor(workload.producerEmits / workload.producerBlocks));
    // One warm-up block each: connections, BullMQ's Lua scripts and PostgreSQL functions load lazily.
    for (const contender of contenders) await sendBlock(contender, 'concurrent', 100);
    for (let block = 0; block < workload.producerBlocks; block += 1) {
      const order = block % 2 === 0 ? contenders : [...contenders].reverse();
      for (const pattern of ['sequential', 'concurrent'] as const) {
        for (const contender of order) {
          const result = await sendBlock(contender, pattern, perBlock);
          const key = `${contender.key}.${pattern}`;
          const entry = samples.get(key) ?? { latencies: [], emits: 0, ms: 0 };
          entry.latencies.push(...result.latencies);
          entry.emits += perBlock;
          entry.ms += result.ms;
          samples.set(key, entry);
        }
      }
    }
    context.log(`producer: ${workload.producerEmits} requests per contender and pattern`);
  } finally {
    for (const contender of contenders) await contender.close();
  }
  for (const contender of contenders) {
    for (const pattern of ['sequential', 'concurrent'] as const) {
      const entry = samples.get(`${contender.key}.${pattern}`)!;
      const what = `${contender.label}, ${pattern === 'sequential' ? 'sequential' : `${CONCURRENCY} concurrent`}`;
      out.add(`${contender.key}.${pattern}.throughput`, entry.emits / (entry.ms / 1000), 'events/s', `throughput, ${what}`);
      out.add(`${contender.key}.${pattern}.p50_ms`, quantile(entry.latencies, 0.5), 'ms', `latency p50, ${what}`);
      out.add(`${contender.key}.${pattern}.p99_ms`, quantile(entry.latencies, 0.99), 'ms', `latency p99, ${what}`);
    }
  }
  addDurabilityRatios(out, samples);
  out.note('emit validates the payload, maps the event to its views and adds one deduplicated job per view (add for one view, addBulk for several); bullmq_add is Queue.add with the same options, without the SDK.');
  out.note(
    `redis_mv and redis_mv_durable emit ${MV_EVENT} (one MATERIALIZED VIEW, ${MV_VIEW}): without sql, and with sql (the request recorded in mv_pending_requests on the bench's pool first; one that joins a waiting request, as every emit after the first does here since no worker drains the view, adds no job); redis_bullmq_add_mv is Queue.add with ${MV_VIEW}'s job options. Their pending rows are deleted afterwards.`,
  );
  return out;
};

/**
 * The durable/bare and non-durable/bare throughput ratios of the one-MV contenders, per
 * pattern (the issue's "≥ 0.5× bare Queue.add"), and the latency the INSERT adds.
 */
function addDurabilityRatios(out: ReturnType<typeof figureSet>, samples: Map<string, Sample>): void {
  const throughput = (key: string) => {
    const entry = samples.get(key)!;
    return entry.emits / (entry.ms / 1000);
  };
  for (const pattern of ['sequential', 'concurrent'] as const) {
    const what = pattern === 'sequential' ? 'sequential' : `${CONCURRENCY} concurrent`;
    const bare = throughput(`redis_bullmq_add_mv.${pattern}`);
    const plain = throughput(`redis_mv.${pattern}`);
    const durable = throughput(`redis_mv_durable.${pattern}`);
    out.add(`durability.${pattern}.emit_over_add`, ratio(plain, bare), 'x', `emit ${MV_EVENT} without sql / Queue.add, throughput, ${what}`);
    const target = pattern === 'sequential' ? ' (target ≥ 0.5×)' : '';
    out.add(`durability.${pattern}.durable_over_add`, ratio(durable, bare), 'x', `durable emit ${MV_EVENT} / Queue.add, throughput, ${what}${target}`);
    out.add(`durability.${pattern}.durable_over_emit`, ratio(durable, plain), 'x', `durable emit / emit without sql, throughput, ${what}`);
    const p50 = (key: string) => quantile(samples.get(`${key}.${pattern}`)!.latencies, 0.5);
    out.add(`durability.${pattern}.insert_p50_ms`, p50('redis_mv_durable') - p50('redis_mv'), 'ms', `latency p50 the INSERT adds to emit, ${what}`);
    if (pattern === 'sequential') {
      // One at a time, the median latency ratio is the throughput ratio without the stalls a loaded machine adds.
      out.add('durability.sequential.emit_over_add_p50', ratio(p50('redis_bullmq_add_mv'), p50('redis_mv')), 'x', `emit ${MV_EVENT} without sql / Queue.add, from p50 latencies, sequential`);
      out.add('durability.sequential.durable_over_add_p50', ratio(p50('redis_bullmq_add_mv'), p50('redis_mv_durable')), 'x', `durable emit ${MV_EVENT} / Queue.add, from p50 latencies, sequential`);
    }
  }
}

function openContenders(context: BenchContext): Contender[] {
  const mvView = oneMaterializedView(context);
  const redisBackend = createRedisQueueBackend({ url: context.redisUrl, prefix: context.prefix('producer'), role: 'producer' });
  // A schema of its own in the bench database; dropped afterwards.
  const schema = `bench_queue_${process.pid}`;
  const postgresBackend = createPostgresQueueBackend({ url: context.databaseUrl, schema });
  const emitter = (
    key: string,
    label: string,
    backend: QueueBackend,
    send: (fleet: ReturnType<typeof createProducer>, i: number) => Promise<unknown>,
    options: { sql?: Queryable; cleanup?: () => Promise<void> } = {},
  ): Contender => {
    const fleet = createProducer({ catalog: context.catalog, backend, sql: options.sql });
    return {
      key,
      label,
      send: (i) => send(fleet, i),
      async close() {
        await fleet.close();
        await backend.close();
        await options.cleanup?.();
      },
    };
  };
  // Without `sql` the fleet records no keys: the event enqueues a whole-view job (the event storm measures emit with keys).
  const invoicePaid = (fleet: ReturnType<typeof createProducer>, i: number) =>
    fleet.emit('invoice.paid', { firmId: (i % 20) + 1, projectId: (i % 200) + 1, paidOn: '2026-01-15', invoiceId: i + 1 });
  const importFinished = (fleet: ReturnType<typeof createProducer>, i: number) => fleet.emit(MV_EVENT, { sumber: 'bench', rows: i });
  const bulkBackend = createRedisQueueBackend({ url: context.redisUrl, prefix: context.prefix('producer-bulk'), role: 'producer' });
  const bulkQueue = createRefreshQueue(bulkBackend);
  const view = context.catalog.get('mv_revenue_by_project_month');
  // emit goes through addBulk (all views of an event or none); this isolates what that costs for one job.
  const bulk: Contender = {
    key: 'redis_bullmq_addbulk',
    label: 'Redis, BullMQ Queue.addBulk of 1 job (baseline)',
    send() {
      const data = parseRefreshJob({ view: view.name, reason: 'event', triggerDetail: 'invoice.paid', requestedAt: new Date().toISOString() });
      return bulkQueue.addBulk([{ name: JOB_NAMES.refresh, data, opts: refreshJobOptions(view, data, { delayMs: view.coalesceWindowMs }) }]);
    },
    async close() {
      await bulkQueue.close();
      await bulkBackend.close();
    },
  };
  const pending = quoteQualified(context.catalog.store.pendingRequests);
  const durableBackend = createRedisQueueBackend({ url: context.redisUrl, prefix: context.prefix('producer-durable'), role: 'producer' });
  const mvBackend = createRedisQueueBackend({ url: context.redisUrl, prefix: context.prefix('producer-mv'), role: 'producer' });
  return [
    emitter('redis', 'emit, Redis backend', redisBackend, invoicePaid),
    bareAdd(context, 'redis_bullmq_add', 'Redis, BullMQ Queue.add (baseline)', view, 'invoice.paid'),
    bulk,
    emitter('postgres', 'emit, PostgreSQL backend', postgresBackend, invoicePaid, {
      cleanup: async () => {
        await context.db.sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      },
    }),
    emitter('redis_mv', `emit ${MV_EVENT} (1 MV), Redis, without sql`, mvBackend, importFinished),
    emitter('redis_mv_durable', `emit ${MV_EVENT} (1 MV), Redis, durable (sql)`, durableBackend, importFinished, {
      sql: context.db.sql,
      // Nothing refreshes the view here: left behind, the rows are overdue requests the next scenario's workers would act on.
      cleanup: async () => {
        await context.db.sql.unsafe(`DELETE FROM ${pending}`);
        await context.db.sql.unsafe(`VACUUM (ANALYZE) ${pending}`);
      },
    }),
    bareAdd(context, 'redis_bullmq_add_mv', `Redis, BullMQ Queue.add, ${MV_VIEW} options (baseline)`, mvView, MV_EVENT),
  ];
}

/** BullMQ's own `Queue.add` of the job `emit` would add for `view`, without the SDK. */
function bareAdd(context: BenchContext, key: string, label: string, view: CatalogView, event: string): Contender {
  const backend = createRedisQueueBackend({ url: context.redisUrl, prefix: context.prefix(`producer-${key}`), role: 'producer' });
  const queue = createRefreshQueue(backend);
  return {
    key,
    label,
    send() {
      const data = parseRefreshJob({ view: view.name, reason: 'event', triggerDetail: event, requestedAt: new Date().toISOString() });
      return queue.add(JOB_NAMES.refresh, data, refreshJobOptions(view, data, { delayMs: view.coalesceWindowMs }));
    },
    async close() {
      await queue.close();
      await backend.close();
    },
  };
}

/** The view of {@link MV_EVENT}, checked to be its only view and a MATERIALIZED VIEW, so the contenders measure what they say. */
function oneMaterializedView(context: BenchContext): CatalogView {
  const views = context.catalog.viewsForEvent(MV_EVENT);
  const view = views[0];
  if (views.length !== 1 || view?.name !== MV_VIEW || view.storage !== 'materialized' || view.keyed) {
    throw new Error(`producer bench: ${MV_EVENT} should map to the one unkeyed MATERIALIZED VIEW ${MV_VIEW} (got ${views.map((v) => v.name).join(', ')})`);
  }
  return view;
}

async function sendBlock(contender: Contender, pattern: Pattern, count: number): Promise<{ latencies: number[]; ms: number }> {
  const latencies: number[] = [];
  const sendOne = async (i: number) => {
    const start = performance.now();
    await contender.send(i);
    latencies.push(since(start));
  };
  const start = performance.now();
  if (pattern === 'sequential') {
    for (let i = 0; i < count; i += 1) await sendOne(i);
  } else {
    let next = 0;
    const lane = async () => {
      while (next < count) await sendOne(next++);
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  }
  return { latencies, ms: since(start) };
}
