import { drizzle } from 'drizzle-orm/postgres-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCatalog } from '../src/catalog/catalog.js';
import { migrate } from '../src/migrate/migrate.js';
import { createProducer, type Producer } from '../src/producers/producer.js';
import { populateViews } from '../src/workers/populate-views.js';
import { createWorker } from '../src/workers/refresh-worker.js';
import { createShopTables, customerTotals, dailySales, orderBalance, shopEvents, unpaidOrders } from './fixtures/shop-catalog.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';

const catalog = createCatalog({
  events: shopEvents,
  views: [{ ...orderBalance, coalesceWindowMs: 50 }, { ...customerTotals, coalesceWindowMs: 50 }, dailySales, unpaidOrders],
});

/**
 * `emit` inside the app's transaction: its requests commit or roll back with the app's write,
 * and the workers find them after the commit without any job enqueued by the producer.
 */
describe('emit in the app’s transaction', () => {
  const db = useTestDatabase({ empty: true });
  const queue = useTestQueue(db);
  let producer: Producer;
  const recorded = async () => {
    const [row] = await db.sql<[{ keys: number; requests: number }]>`
      SELECT (SELECT count(*)::int FROM mvfleet.mv_dirty_keys) AS keys, (SELECT count(*)::int FROM mvfleet.mv_pending_requests) AS requests`;
    return row;
  };

  beforeAll(async () => {
    await createShopTables(db.sql);
    await migrate({ sql: db.sql, catalog });
    await populateViews({ sql: db.sql, catalog, triggerDetail: 'test' });
    producer = createProducer({ catalog, backend: queue.backend('producer'), sql: db.sql });
    return () => producer.close();
  });

  it('records nothing when the transaction rolls back (postgres.js and Drizzle)', async () => {
    await db.sql
      .begin(async (tx) => {
        await tx`INSERT INTO t_orders VALUES (800001, 8001, 10, '2026-04-01')`;
        await producer.emit('order.placed', { orderId: 800001, customerId: 8001 }, { transaction: tx });
        throw new Error('the app changes its mind');
      })
      .catch(() => {});
    await drizzle({ client: db.sql })
      .transaction(async (tx) => {
        await producer.emit('order.placed', { orderId: 800002, customerId: 8002 }, { transaction: tx });
        tx.rollback();
      })
      .catch(() => {});
    expect(await recorded()).toEqual({ keys: 0, requests: 0 });
  });

  it('commits the requests with the write; a worker refreshes after the commit, with nothing enqueued by the producer', async () => {
    let handle;
    await db.sql.begin(async (tx) => {
      await tx`INSERT INTO t_orders VALUES (800003, 8003, 33, '2026-04-01')`;
      handle = await producer.emit('order.placed', { orderId: 800003, customerId: 8003 }, { transaction: tx });
      // Not visible outside the transaction yet.
      expect(await recorded()).toEqual({ keys: 0, requests: 0 });
    });
    expect(await recorded()).toEqual({ keys: 1, requests: 1 });
    expect(await queue.backend('producer').queue('refresh').getJobCounts()).toMatchObject({ waiting: 0, delayed: 0 });

    await drizzle({ client: db.sql }).transaction(async (tx) => {
      await tx.execute('INSERT INTO t_orders VALUES (800004, 8004, 44, \'2026-04-01\')');
      await producer.emit('order.placed', { orderId: 800004, customerId: 8004 }, { transaction: tx });
    });

    const worker = createWorker({ backend: queue.backend(), sql: db.sql, catalog, concurrency: 2, requestPollMs: 50 });
    try {
      await worker.ready();
      const results = await handle!.waitUntilFresh({ timeoutMs: 20_000 });
      expect(Object.keys(results).sort()).toEqual(['t_customer_totals', 't_order_balance', 't_unpaid_orders']);
      const rows = await db.sql`SELECT customer_id, total::float8 AS total FROM t_customer_totals WHERE customer_id IN (8003, 8004) ORDER BY 1`;
      expect(rows).toEqual([{ customer_id: 8003, total: 33 }, { customer_id: 8004, total: 44 }]);
      expect(await db.sql`SELECT 1 FROM t_order_balance WHERE order_id IN (800003, 800004)`).toHaveLength(2);
    } finally {
      await worker.close();
    }
  });

  it('refuses something that is not a transaction', async () => {
    await expect(producer.emit('order.placed', { orderId: 1, customerId: 1 }, { transaction: {} as never })).rejects.toThrow(
      /`transaction` must be a postgres.js or a Drizzle transaction/,
    );
  });
});
