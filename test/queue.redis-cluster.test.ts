import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { startDashboard, startScheduler, startWorker } from '../src/fleet/start-fleet.js';
import { createProducer } from '../src/producers/producer.js';
import { REFRESH_QUEUE } from '../src/queue/job-contract.js';
import { createRedisQueueBackend, type QueueBackend } from '../src/queue/queue-backend.js';
import { createRedis } from '../src/queue/redis.js';
import { demoCatalogWith } from './helpers/catalog.js';
import { runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/database.js';
import { useChildProcesses } from './helpers/processes.js';
import { startRedisCluster, type TestRedisCluster } from './helpers/redis-cluster.js';
import { deleteRedisKeys } from './helpers/redis-keys.js';
import { waitUntil } from './helpers/wait.js';

const MV = 'referensi_ahsp_stats';
const PREFIX = `{mvfleet-cluster-${process.pid}}`;

/**
 * The engine's essential paths on a real three-master Redis Cluster this file starts (and
 * kills by PID), and the clear refusal of a plain Redis URL pointed at one of its nodes.
 */
describe('Redis Cluster', () => {
  const db = useTestDatabase();
  const processes = useChildProcesses();
  let cluster: TestRedisCluster;
  /** A plain `redis://` URL of a node that does not own the fleet's hash slot: every queue command there gets MOVED. */
  let strangerUrl: string;
  const opened: QueueBackend[] = [];
  const backend = (url: string, role: 'worker' | 'producer' = 'producer') => {
    const created = createRedisQueueBackend({ url, prefix: PREFIX, role });
    opened.push(created);
    return created;
  };

  beforeAll(async () => {
    cluster = await startRedisCluster();
    for (const node of cluster.nodes) {
      const plain = createRedis({ url: `redis://127.0.0.1:${node.port}` });
      const moved = await plain.get(`${PREFIX}:probe`).then(() => false, (error: Error) => /MOVED/.test(error.message));
      plain.disconnect();
      if (moved) strangerUrl = `redis://127.0.0.1:${node.port}`;
    }
  }, 120_000);

  afterAll(async () => {
    for (const created of opened) await created.close();
    if (cluster) await deleteRedisKeys(cluster.url, `${PREFIX}*`);
    await cluster?.stop();
  });

  const env = (redisUrl = cluster.url, prefix = PREFIX) => ({
    DATABASE_URL: db.url,
    MVFLEET_QUEUE_BACKEND: 'redis',
    REDIS_URL: redisUrl,
    MVFLEET_PREFIX: prefix,
    LOG_LEVEL: 'info',
  });

  const successSince = async (since: Date, reason?: string) => {
    const [row] = await db.sql<{ id: number }[]>`
      SELECT id FROM mvfleet.mv_refresh_log
      WHERE view_name = ${MV} AND status = 'success' AND started_at >= ${since.toISOString()}::timestamptz
        AND (${reason ?? null}::text IS NULL OR reason = ${reason ?? null})`;
    return row;
  };

  it('a worker process refreshes what a producer and `mvfleet emit` ask for; a scheduler ticks; Bull Board and /readyz answer', async () => {
    // The CLI reads the cluster from REDIS_URL; its emit runs while the worker starts (each
    // CLI start costs seconds on a loaded machine), and waits in the queue for it.
    const before = new Date();
    const worker = processes.cli(['worker', '--concurrency', '1'], env());
    onTestFailed(() => console.log(worker.output()));
    const [, emitted] = await Promise.all([
      worker.waitFor('"worker started"', 60_000),
      runCli(['emit', 'import.finished', '--data', '{"sumber":"cli"}'], env()),
    ]);
    expect(worker.output()).toContain('Redis Cluster at 127.0.0.1:');
    expect(emitted.stderr).toBe('');
    expect(emitted.code).toBe(0);
    await waitUntil('the refresh `mvfleet emit` asked for', () => successSince(before), { timeoutMs: 20_000, intervalMs: 100 });

    // Producer SDK with a cluster URL → worker → refresh log.
    const producer = createProducer({ catalog: demoCatalog, redisUrl: cluster.url, prefix: PREFIX, sql: db.sql });
    const handle = await producer.emit('import.finished', { sumber: 'cluster' });
    const fresh = await handle.waitUntilFresh({ timeoutMs: 20_000 });
    expect(fresh[MV]?.status).toBe('success');
    await producer.close();

    // A scheduler on the cluster (its sync lock included): the worker process runs its ticks.
    const tickedAfter = new Date();
    const scheduler = await startScheduler({
      backend: backend(cluster.url, 'worker'),
      catalog: demoCatalogWith({ [MV]: { schedule: { kind: 'every', everyMs: 500, jitterMs: 0 } } }),
    });
    try {
      await waitUntil('a scheduled refresh', () => successSince(tickedAfter, 'schedule'), { timeoutMs: 20_000, intervalMs: 100 });
    } finally {
      await scheduler.close();
    }

    const dashboard = await startDashboard({ sql: db.sql, backend: backend(cluster.url), catalog: demoCatalog }, { port: 0 });
    try {
      const ready = await fetch(`${dashboard.url}/readyz`);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', queue: 'ok' } });
      const board = await fetch(`${dashboard.url}/queues/api/queues?activeQueue=${REFRESH_QUEUE}&status=completed&page=1`);
      expect(board.status).toBe(200);
      const { queues } = (await board.json()) as { queues: { name: string; counts: Record<string, number> }[] };
      expect(queues.map((queue) => queue.name)).toEqual([REFRESH_QUEUE]);
      expect(queues[0]!.counts.completed).toBeGreaterThan(0);
    } finally {
      await dashboard.close();
    }

    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    expect(worker.output()).not.toMatch(/MOVED|CROSSSLOT/);
  }, 120_000);

  it('a plain redis:// URL of a cluster node, or a cluster prefix without hash tag, is refused at start with one clear message and a non-zero exit', async () => {
    expect(strangerUrl).toBeDefined();
    // In parallel: each CLI start costs seconds on a loaded machine.
    const [worker, emit, unTagged] = await Promise.all([
      runCli(['worker'], env(strangerUrl), { timeoutMs: 45_000 }),
      runCli(['emit', 'import.finished', '--data', '{"sumber":"cli"}'], env(strangerUrl), { timeoutMs: 45_000 }),
      runCli(['worker'], env(cluster.url, 'mvfleet'), { timeoutMs: 45_000 }),
    ]);
    for (const [name, result] of Object.entries({ worker, emit })) {
      expect(result.code, name).toBe(2);
      expect(result.stderr, name).toMatch(/Redis at 127\.0\.0\.1:\d+ is a Redis Cluster node; configure cluster nodes: REDIS_URL=redis\+cluster:\/\//);
      expect(result.stderr.trim().split('\n'), `${name}: one message`).toHaveLength(1);
      expect(result.stdout + result.stderr, name).not.toMatch(/MOVED|worker started/);
    }
    expect(unTagged.code).toBe(2);
    expect(unTagged.stderr).toMatch(/MVFLEET_PREFIX "mvfleet" has no hash tag: on a Redis Cluster the prefix must contain one, such as "\{mvfleet\}"/);
    expect(() => createRedisQueueBackend({ url: cluster.url, prefix: 'fleet:{}' })).toThrow(/has no hash tag/);

    // The library's own starts refuse it the same way.
    const plain = backend(strangerUrl, 'worker');
    await expect(startWorker({ sql: db.sql, backend: plain, catalog: demoCatalog })).rejects.toThrow(/is a Redis Cluster node; configure cluster nodes/);
    await expect(startScheduler({ backend: plain, catalog: demoCatalog })).rejects.toThrow(/is a Redis Cluster node/);
  }, 120_000);

  it('a worker whose fetches keep failing (MOVED) backs off instead of spinning, and /readyz says the queue is unusable', async () => {
    const misconfigured = backend(strangerUrl, 'worker');
    const worker = misconfigured.worker(REFRESH_QUEUE, async () => undefined, { autorun: false });
    let errors = 0;
    worker.on('error', () => (errors += 1));
    void worker.run().catch(() => {});
    await delay(3_000);
    const started = Date.now();
    await worker.close();
    // 100 ms doubling: about 5 failed fetches in 3 s (without backoff: tens of thousands).
    expect(errors).toBeGreaterThan(0);
    expect(errors).toBeLessThan(20);
    expect(Date.now() - started, 'a wait in progress does not hold up close').toBeLessThan(2_000);

    const dashboard = await startDashboard({ sql: db.sql, backend: misconfigured, catalog: demoCatalog }, { port: 0 });
    try {
      const ready = await fetch(`${dashboard.url}/readyz`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { status: string; checks: { queue: string } };
      expect(body.status).toBe('unavailable');
      expect(body.checks.queue).toMatch(/^failed/);
    } finally {
      await dashboard.close();
    }
  }, 30_000);
});
