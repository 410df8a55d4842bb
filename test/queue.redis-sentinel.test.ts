import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { createProducer, type RefreshHandle } from '../src/producers/producer.js';
import { createRedisQueueBackend, type QueueBackend } from '../src/queue/queue-backend.js';
import { createRedis } from '../src/queue/redis.js';
import { createWorker } from '../src/workers/refresh-worker.js';
import { useTestDatabase } from './helpers/database.js';
import { startRedisSentinel, type TestRedisSentinel } from './helpers/redis-sentinel.js';

const MV = 'referensi_ahsp_stats';
const PREFIX = `{mvfleet-sentinel-${process.pid}}`;

/**
 * A Sentinel-managed Redis (a master, one replica, one Sentinel this file starts and kills by
 * PID) loses its master mid-stream: the fleet follows the Sentinel to the promoted replica,
 * and every request an `emit` acknowledged is refreshed, also one whose job the dead master
 * took with it (requests live in PostgreSQL; workers rescue them).
 */
describe('Redis Sentinel', () => {
  const db = useTestDatabase();
  let sentinel: TestRedisSentinel;
  const opened: QueueBackend[] = [];
  const backend = (role: 'worker' | 'producer') => {
    const created = createRedisQueueBackend({ url: sentinel.url, prefix: PREFIX, role });
    opened.push(created);
    return created;
  };

  beforeAll(async () => {
    sentinel = await startRedisSentinel();
  }, 60_000);

  afterAll(async () => {
    for (const created of opened) await created.close();
    await sentinel?.stop();
  });

  it('refreshes continue after the master is killed, and nothing acknowledged is lost', async () => {
    const workerBackend = backend('worker');
    await workerBackend.ping();
    expect(workerBackend.target).toBe(`Redis Sentinel master mvfleet-test at 127.0.0.1:${sentinel.sentinel.port}`);
    const worker = createWorker({ backend: workerBackend, sql: db.sql, catalog: demoCatalog, concurrency: 1 });
    const producerBackend = backend('producer');
    const producer = createProducer({ catalog: demoCatalog, backend: producerBackend, sql: db.sql, timeoutMs: 1_000 });
    try {
      await worker.ready();
      await producerBackend.ping();
      const first = await producer.emit('import.finished', { sumber: 'before failover' });
      expect((await first.waitUntilFresh({ timeoutMs: 20_000 }))[MV]?.status).toBe('success');

      // Hold the replica back (DEBUG SLEEP) so the master acknowledges a request whose job it
      // never replicates, then kill the master by PID: that job dies with it.
      const replica = createRedis({ url: `redis://127.0.0.1:${sentinel.replica.port}` });
      const asleep = replica.call('DEBUG', 'SLEEP', '2');
      await delay(300);
      const lostJob = await producer.emit('import.finished', { sumber: 'job lost with the master' });
      await sentinel.master.kill();
      await asleep;
      replica.disconnect();

      // Keep emitting while the Sentinel promotes the replica. Emits the queue refuses meanwhile
      // are not acknowledged (the app would retry them); those it accepted must all be refreshed.
      const acknowledged: RefreshHandle[] = [lostJob];
      let refused = 0;
      const emitting = Date.now() + 4_000;
      while (Date.now() < emitting || (await sentinel.masterPort()) !== sentinel.replica.port) {
        if (Date.now() > emitting + 20_000) throw new Error('the Sentinel did not promote the replica within 24 s');
        await producer.emit('import.finished', { sumber: 'during failover' }).then(
          (handle) => acknowledged.push(handle),
          () => (refused += 1),
        );
        await delay(200);
      }

      // After the failover: the producer reaches the new master, and the worker refreshes.
      let after: RefreshHandle | undefined;
      for (let attempt = 0; !after; attempt++) {
        if (attempt === 50) throw new Error('no emit was acknowledged within 10 s of the failover');
        after = await producer.emit('import.finished', { sumber: 'after failover' }).catch(async () => {
          await delay(200);
          return undefined;
        });
      }
      for (const handle of [...acknowledged, after]) {
        expect((await handle.waitUntilFresh({ timeoutMs: 30_000 }))[MV]?.status).toBe('success');
      }
      console.log(`Sentinel failover: ${acknowledged.length} emits acknowledged (one by the killed master) and ${refused} refused during it; all acknowledged refreshed`);
      const [{ pending }] = await db.sql<[{ pending: number }]>`SELECT count(*)::int AS pending FROM mvfleet.mv_pending_requests`;
      expect(pending).toBe(0);
    } finally {
      await producer.close();
      await worker.close();
    }
  }, 90_000);
});
