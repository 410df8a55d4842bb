import { createPostgresQueueBackend, createRedisQueueBackend, type QueueBackend } from '../../src/queue/queue-backend.js';
import { createProducer } from '../../src/producers/producer.js';
import { JOB_NAMES, parseRefreshJob, refreshJobOptions } from '../../src/queue/job-contract.js';
import { createRefreshQueue } from '../../src/queue/refresh-queue.js';
import { figureSet, type BenchContext, type Scenario } from '../context.js';
import { quantile, since } from '../stats.js';

type Pattern = 'sequential' | 'concurrent';

const CONCURRENCY = 64;

/** Something that sends one request; closed after the scenario. */
interface Contender {
  key: string;
  label: string;
  send(i: number): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * `emit` throughput and latency on both queue backends, sequentially and 64 at a time,
 * beside BullMQ's own `Queue.add` with the same job options on Redis (what the SDK costs on
 * top of BullMQ). Blocks of each contender alternate so all see the same machine noise.
 * No worker runs: every emit after the first joins the pending coalesced job, which is the
 * path an app's hot loop takes.
 */
export const producerScenario: Scenario = async (context) => {
  const { workload } = context;
  const out = figureSet();
  const contenders = openContenders(context);
  const samples = new Map<string, { latencies: number[]; emits: number; ms: number }>();
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
  out.note('emit validates the payload, maps the event to its views and adds one deduplicated job per view (add for one view, addBulk for several); bullmq_add is Queue.add with the same options, without the SDK.');
  return out;
};

function openContenders(context: BenchContext): Contender[] {
  const redisBackend = createRedisQueueBackend({ url: context.redisUrl, prefix: context.prefix('producer'), role: 'producer' });
  // A schema of its own in the bench database; dropped afterwards.
  const schema = `bench_queue_${process.pid}`;
  const postgresBackend = createPostgresQueueBackend({ url: context.databaseUrl, schema });
  const emitter = (key: string, label: string, backend: QueueBackend, cleanup: () => Promise<void>): Contender => {
    const fleet = createProducer({ catalog: context.catalog, backend });
    return {
      key,
      label,
      // Without `sql` the fleet records no keys: the event enqueues a whole-view job (the event storm measures emit with keys).
      send: (i) => fleet.emit('invoice.paid', { firmId: (i % 20) + 1, projectId: (i % 200) + 1, paidOn: '2026-01-15', invoiceId: i + 1 }),
      async close() {
        await fleet.close();
        await backend.close();
        await cleanup();
      },
    };
  };
  const rawBackend = createRedisQueueBackend({ url: context.redisUrl, prefix: context.prefix('producer-raw'), role: 'producer' });
  const rawQueue = createRefreshQueue(rawBackend);
  const view = context.catalog.get('mv_revenue_by_project_month');
  const raw: Contender = {
    key: 'redis_bullmq_add',
    label: 'Redis, BullMQ Queue.add (baseline)',
    send() {
      const data = parseRefreshJob({ view: view.name, reason: 'event', triggerDetail: 'invoice.paid', requestedAt: new Date().toISOString() });
      return rawQueue.add(JOB_NAMES.refresh, data, refreshJobOptions(view, data, { delayMs: view.coalesceWindowMs }));
    },
    async close() {
      await rawQueue.close();
      await rawBackend.close();
    },
  };
  const bulkBackend = createRedisQueueBackend({ url: context.redisUrl, prefix: context.prefix('producer-bulk'), role: 'producer' });
  const bulkQueue = createRefreshQueue(bulkBackend);
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
  return [
    emitter('redis', 'emit, Redis backend', redisBackend, async () => {}),
    raw,
    bulk,
    emitter('postgres', 'emit, PostgreSQL backend', postgresBackend, async () => {
      await context.db.sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }),
  ];
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
