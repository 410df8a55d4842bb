import { beforeAll, describe, expect, it } from 'vitest';
import { createCatalog } from '../src/catalog/catalog.js';
import { migrate } from '../src/migrate/migrate.js';
import { createProducer, type Producer } from '../src/producers/producer.js';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import { VIEW_FENCE_NAMESPACE } from '../src/store/view-fence.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { createShopTables, shopEvents, shopViews } from './fixtures/shop-catalog.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';

const catalog = createCatalog({ views: shopViews, events: shopEvents });
const VIEW = 't_order_balance';
const EVENT = 'order.placed';

/**
 * A durable request for an MV is a row in `mv_pending_requests`, unless a waiting row already
 * covers it: one that a refresh not yet begun will drain, and that no failed attempt can end.
 * Only then may an `emit` skip its write (and its commit's disk flush). No worker runs here:
 * the refreshes are the executor's, so each state is set up exactly.
 */
describe('durable requests join a waiting one only when a later refresh is sure to cover them', () => {
  const db = useTestDatabase({ empty: true });
  const queue = useTestQueue(db);
  let producer: Producer;
  const pending = async () =>
    (await db.sql<[{ n: number }]>`SELECT count(*)::int AS n FROM mvfleet.mv_pending_requests WHERE view_name = ${VIEW}`)[0].n;
  const emitTimes = async (n: number) => {
    for (let i = 0; i < n; i += 1) await producer.emit(EVENT, { orderId: i, customerId: i });
  };

  beforeAll(async () => {
    await createShopTables(db.sql);
    await migrate({ sql: db.sql, catalog });
    producer = createProducer({ catalog, backend: queue.backend('producer'), sql: db.sql });
    return () => producer.close();
  });

  it('writes every request while the view has no refresh in its log, then joins after a success', async () => {
    await emitTimes(3);
    expect(await pending()).toBe(3);

    const executor = createRefreshExecutor({ sql: db.sql, catalog });
    const outcome = await executor.refresh({ view: VIEW, reason: 'manual' });
    expect(outcome.status).toBe('success');
    expect(await pending()).toBe(0);

    await emitTimes(5);
    expect(await pending()).toBe(1);
  });

  it('writes every request while a refresh holds the view’s fence, and that refresh does not take them', async () => {
    const before = await pending();
    const refresh = await db.sql.reserve();
    try {
      // What a refresh holds from the statement that drains its requests until it commits.
      await refresh`BEGIN`;
      await refresh`SELECT pg_advisory_xact_lock(${VIEW_FENCE_NAMESPACE}, hashtext(${VIEW}))`;
      await emitTimes(2);
      expect(await pending()).toBe(before + 2);
    } finally {
      await refresh`ROLLBACK`;
      refresh.release();
    }
  });

  it('writes every request after a failed attempt, whose requests may be ended', async () => {
    const executor = createRefreshExecutor({ sql: db.sql, catalog });
    await executor.refresh({ view: VIEW, reason: 'manual' });
    await emitTimes(2);
    expect(await pending()).toBe(1);

    // Another session holds the view: the refresh times out, and its log row says failed.
    const holder = await db.sql.reserve();
    try {
      await holder`BEGIN`;
      await holder.unsafe(`REFRESH MATERIALIZED VIEW ${VIEW}`);
      const strict = createCatalog({
        views: shopViews.map((definition) => (definition === shopViews[0] ? { ...definition, lockTimeoutMs: 100 } : definition)),
        events: shopEvents,
      });
      await expect(createRefreshExecutor({ sql: db.sql, catalog: strict }).refresh({ view: VIEW, reason: 'manual' })).rejects.toThrow(/lock timeout/);
    } finally {
      await holder`ROLLBACK`;
      holder.release();
    }
    const [last] = await db.sql<[{ status: string }]>`
      SELECT status FROM mvfleet.mv_refresh_log WHERE view_name = ${VIEW} ORDER BY started_at DESC LIMIT 1`;
    expect(last.status).toBe('failed');
    await emitTimes(2);
    expect(await pending()).toBe(3);
  });

  it('writes a request due sooner than the waiting one (a manual refresh behind an event’s coalescing window)', async () => {
    const executor = createRefreshExecutor({ sql: db.sql, catalog });
    await executor.refresh({ view: VIEW, reason: 'manual' });
    await db.sql`
      INSERT INTO mvfleet.mv_pending_requests (view_name, reason, due_at)
      VALUES (${VIEW}, 'event', clock_timestamp() + interval '1 hour')`;
    await producer.refresh(VIEW);
    expect(await pending()).toBe(2);
    await producer.refresh(VIEW);
    expect(await pending()).toBe(2);
  });

  it('adds no job for a request that joins: the waiting request’s job covers it, or the workers’ sweep finds the request', async () => {
    const executor = createRefreshExecutor({ sql: db.sql, catalog });
    await executor.refresh({ view: VIEW, reason: 'manual' });
    const refreshQueue = createRefreshQueue(queue.backend('producer'));
    try {
      const jobs = async () => (await refreshQueue.getJobs(['waiting', 'delayed', 'prioritized'])).filter((job) => job.data.view === VIEW).length;
      await refreshQueue.drain(true);
      await emitTimes(1);
      expect(await pending()).toBe(1);
      expect(await jobs()).toBe(1);
      // The waiting request's job is lost (as in a Redis restart): requests that join it add none.
      await refreshQueue.drain(true);
      await emitTimes(5);
      expect(await pending()).toBe(1);
      expect(await jobs()).toBe(0);
      // A refresh that forces its mode joins the waiting request (due by now) but still adds its job.
      await db.sql`UPDATE mvfleet.mv_pending_requests SET due_at = clock_timestamp() - interval '1 second' WHERE view_name = ${VIEW}`;
      await producer.refresh(VIEW, { mode: 'plain' });
      expect(await pending()).toBe(1);
      expect((await refreshQueue.getJobs(['waiting', 'delayed', 'prioritized'])).map((job) => [job.data.view, job.data.mode])).toContainEqual([VIEW, 'plain']);
    } finally {
      await refreshQueue.close();
    }
  });
});
