import { setTimeout as delay } from 'node:timers/promises';
import { createRedisQueueBackend } from '../../src/queue/queue-backend.js';
import { createProducer } from '../../src/producers/producer.js';
import { createRefreshQueue } from '../../src/queue/refresh-queue.js';
import { figureSet, type BenchContext, type Scenario } from '../context.js';
import { max, median, ratio, since } from '../stats.js';
import { startWorkerProcess, type WorkerProcess } from '../worker-processes.js';

/**
 * All eight views requested at once (one request each) against one and then two
 * `mvfleet worker` processes (concurrency 2 each, the CLI default), alternating round by
 * round: wall time until every view has refreshed after its request and the queue is empty.
 */
export const fleetScenario: Scenario = async (context) => {
  const { catalog, workload } = context;
  const out = figureSet();
  const prefix = context.prefix('fleet');
  const fleet = createProducer({ catalog, redisUrl: context.redisUrl, prefix });
  const queueBackend = createRedisQueueBackend({ url: context.redisUrl, prefix });
  const queue = createRefreshQueue(queueBackend);
  const start = () => startWorkerProcess({ databaseUrl: context.databaseUrl, redisUrl: context.redisUrl, prefix });
  const workers: WorkerProcess[] = [];
  const wall: Record<1 | 2, number[]> = { 1: [], 2: [] };
  const rss: number[] = [];
  const peaks: number[] = [];
  try {
    workers.push(await start());
    for (let round = 0; round < workload.fleetRounds; round += 1) {
      const order: (1 | 2)[] = round % 2 === 0 ? [1, 2] : [2, 1];
      for (const count of order) {
        // Start or stop the second process outside the measured time.
        if (count === 2 && workers.length === 1) workers.push(await start());
        if (count === 1 && workers.length === 2) await workers.pop()!.stop();
        wall[count].push(await refreshAll(context, fleet, queue));
        for (const worker of workers) {
          const memory = await worker.memory();
          rss.push(memory.rss);
          peaks.push(memory.peak);
        }
        context.log(`fleet: round ${round + 1}, ${count} worker process(es): ${Math.round(wall[count].at(-1)!)} ms`);
      }
    }
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    await queue.close();
    await queueBackend.close();
    await fleet.close();
  }
  out.add('wall.one_worker_ms', median(wall[1]), 'ms', 'all 8 views, 1 worker process: wall time p50');
  out.add('wall.two_workers_ms', median(wall[2]), 'ms', 'all 8 views, 2 worker processes: wall time p50');
  out.add('wall.speedup', ratio(median(wall[1]), median(wall[2])), 'x', '1 worker / 2 workers wall time');
  out.add('worker.rss_bytes', max(rss), 'bytes', 'worker process RSS (VmRSS), largest reading after a round');
  out.add('worker.peak_rss_bytes', max(peaks), 'bytes', 'worker process peak RSS (VmHWM)');
  out.note('Each worker process runs 2 refreshes at once (CLI default); PostgreSQL has as many cores as this machine, so more workers help only while cores are free.');
  return out;
};

/** Requests every view, then polls the refresh log until each has a success after its request and the queue is empty. */
async function refreshAll(
  context: BenchContext,
  fleet: ReturnType<typeof createProducer>,
  queue: ReturnType<typeof createRefreshQueue>,
): Promise<number> {
  const start = performance.now();
  const requested = new Map<string, Date>();
  for (const view of context.catalog.views) {
    const handle = await fleet.refresh(view.name, { detail: 'bench fleet' });
    requested.set(view.name, handle.requestedAt);
  }
  const deadline = Date.now() + 600_000;
  for (;;) {
    const rows = await context.db.sql<{ view: string }[]>`
      SELECT DISTINCT r.view_name AS view
      FROM unnest(${[...requested.keys()]}::text[], ${[...requested.values()].map((d) => d.toISOString())}::timestamptz[]) AS q(view, at)
      JOIN mvfleet.mv_refresh_log r ON r.view_name = q.view AND r.status = 'success' AND r.started_at >= q.at`;
    if (rows.length === requested.size) {
      const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
      if (Object.values(counts).every((count) => count === 0)) return since(start);
    }
    if (Date.now() > deadline) throw new Error('fleet: views not refreshed within 10 min');
    await delay(20);
  }
}
