import { seededRandom } from '../../bench/stats.js';
import { demoCatalog } from '../../examples/demo/schema/catalog.js';
import { seedDemo } from '../../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../../src/workers/refresh-executor.js';
import type { TestDatabase } from './database.js';
import type { useChildProcesses } from './processes.js';
import type { TestQueue } from './queue-backend.js';

/**
 * The starting point of the fleet-wide property tests: a seeded PRNG (its seed goes into
 * assertion messages, so a failing run can be replayed), the demo at small scale with every
 * view refreshed once, and two worker processes (concurrency 3) on the test queue.
 */
export async function startSeededFleet(db: TestDatabase, backends: TestQueue, processes: ReturnType<typeof useChildProcesses>) {
  const seed = Date.now() % 100_000;
  const random = seededRandom(seed);
  const pick = (n: number) => Math.floor(random() * n);
  await seedDemo({ sql: db.sql, scale: 'small' });
  const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog });
  for (const view of demoCatalog.views) await executor.refresh({ view: view.name, reason: 'manual' });
  const [{ now: refreshedAt }] = await db.sql<[{ now: Date }]>`SELECT now()`;

  const env = { DATABASE_URL: db.url, ...backends.env(), LOG_LEVEL: 'info' };
  const workers = [1, 2].map(() => processes.cli(['worker', '--concurrency', '3'], env));
  await Promise.all(workers.map((worker) => worker.waitFor('"worker started"')));
  return { seed, random, pick, refreshedAt, workers };
}
