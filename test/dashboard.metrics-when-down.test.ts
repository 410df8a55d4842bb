import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { createDb, type DbHandle } from '../src/core/db.js';
import { createDashboard, type Dashboard } from '../src/dashboards/index.js';
import { migrate } from '../src/migrate/migrate.js';
import { createRedisQueueBackend, type QueueBackend } from '../src/queue/queue-backend.js';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { demoMigrationsFolder } from './helpers/catalog.js';
import { startRestartablePostgres, type RestartablePostgres } from './helpers/restartable-postgres.js';
import { startRestartableRedis, type RestartableRedis } from './helpers/restartable-redis.js';

/**
 * `/metrics` while PostgreSQL or Redis is down: it still answers, and says which one is down,
 * so that missing refresh series never read as "nothing happened". Both servers are this
 * test's own; the machine's are never stopped.
 */
describe('dashboard /metrics when a datastore is down', () => {
  let postgres: RestartablePostgres | undefined;
  let redis: RestartableRedis | undefined;
  let db: DbHandle | undefined;
  let backend: QueueBackend | undefined;
  let dashboard: Dashboard | undefined;
  let url = '';

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startRestartablePostgres(), startRestartableRedis()]);
    db = createDb({ url: postgres.url, max: 4 });
    await migrate({ sql: db.sql, catalog: demoCatalog, migrationsFolder: demoMigrationsFolder });
    await createRefreshExecutor({ sql: db.sql, catalog: demoCatalog }).refresh({ view: 'mv_budget_consolidation', reason: 'manual' });
    backend = createRedisQueueBackend({ url: redis.url, prefix: '{mvfleet-down-test}', role: 'producer' });
    const queue = createRefreshQueue(backend);
    dashboard = createDashboard({ sql: db.sql, catalog: demoCatalog, queue, dependencyTimeoutMs: 1_000 });
    url = (await dashboard.listen(0)).url;
  }, 120_000);

  afterAll(async () => {
    await dashboard?.close();
    await redis?.stop();
    await Promise.race([backend?.close(), new Promise((resolve) => setTimeout(resolve, 2_000))]);
    await Promise.race([db?.close(), new Promise((resolve) => setTimeout(resolve, 2_000))]);
    await postgres?.stop();
  });

  /** A scrape after the last one's snapshot (kept 1 s, for the metrics of one scrape) expired. */
  const scrape = async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const response = await fetch(`${url}/metrics`);
    return { status: response.status, text: await response.text() };
  };

  it('reports both up, with the refresh series, while both answer', async () => {
    const { status, text } = await scrape();
    expect(status).toBe(200);
    expect(text).toMatch(/^mvfleet_postgres_up 1$/m);
    expect(text).toMatch(/^mvfleet_queue_up\{queue="refresh"\} 1$/m);
    expect(text).toMatch(/^mvfleet_refreshes_total\{view="mv_budget_consolidation",status="success",reason="manual",mode="plain"\} 1$/m);
  });

  it('answers with mvfleet_queue_up 0 while Redis is down', async () => {
    await redis!.kill();
    const { status, text } = await scrape();
    expect(status).toBe(200);
    expect(text).toMatch(/^mvfleet_queue_up\{queue="refresh"\} 0$/m);
    expect(text).not.toMatch(/^mvfleet_queue_jobs\{/m);
    expect(text).toMatch(/^mvfleet_postgres_up 1$/m);
  });

  it('answers with mvfleet_postgres_up 0, and no refresh series, while PostgreSQL is down', async () => {
    await postgres!.stop();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const started = performance.now();
    const response = await fetch(`${url}/metrics`);
    const { status } = response;
    const text = await response.text();
    expect(status).toBe(200);
    // Bounded by dependencyTimeoutMs, not by the client's reconnect attempts.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(text).toMatch(/^mvfleet_postgres_up 0$/m);
    expect(text).not.toMatch(/^mvfleet_refreshes_total\{/m);
    expect(text).not.toMatch(/^mvfleet_view_stale\{/m);
    // The catalog's own thresholds need no datastore.
    expect(text).toMatch(/^mvfleet_view_fresh_for_seconds\{view="mv_budget_consolidation"\} \d+$/m);
  });
});
