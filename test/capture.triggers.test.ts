import { beforeAll, describe, expect, it } from 'vitest';
import { createCatalog, type ViewDefinition } from '../src/catalog/catalog.js';
import { migrate } from '../src/migrate/migrate.js';
import { populateViews } from '../src/workers/populate-views.js';
import { createWorker } from '../src/workers/refresh-worker.js';
import { createShopTables, customerTotals, dailySales, orderBalance, shopEvents, unpaidOrders } from './fixtures/shop-catalog.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { waitUntil } from './helpers/wait.js';

/** The shop, capturing: customer totals by key from orders, the balance view whole from orders and payments. */
function shopWith(capture: { totals?: ViewDefinition['capture']; balance?: ViewDefinition['capture'] }) {
  return createCatalog({
    events: shopEvents,
    views: [
      { ...orderBalance, capture: capture.balance },
      { ...customerTotals, coalesceWindowMs: 50, capture: capture.totals },
      dailySales,
      unpaidOrders,
    ],
  });
}

const capturing = shopWith({
  totals: { t_orders: { key: { customer_id: 'customer_id' } } },
  balance: { t_orders: {}, t_payments: { columns: ['amount'] } },
});

/**
 * Triggers declared in the config record what each write touched, in the writer's own
 * transaction; plain SQL on other connections is enough for the views to follow. A catalog
 * other than the demo's, with a keyed view and a materialized view.
 */
describe('change capture by triggers', () => {
  const db = useTestDatabase({ empty: true });
  const queue = useTestQueue(db);
  const triggers = async () =>
    (await db.sql<{ name: string }[]>`
      SELECT tgname AS name FROM pg_trigger WHERE NOT tgisinternal AND starts_with(tgname, 'mvfleet_capture_') ORDER BY 1`).map((row) => row.name);
  const dirtyKeys = async () =>
    (await db.sql<{ key: unknown }[]>`SELECT key FROM mvfleet.mv_dirty_keys WHERE view_name = 't_customer_totals' ORDER BY id`).map((row) => row.key);
  const pendingBalance = async () =>
    (await db.sql<[{ n: number }]>`SELECT count(*)::int AS n FROM mvfleet.mv_pending_requests WHERE view_name = 't_order_balance'`)[0].n;
  const clear = () => db.sql`TRUNCATE mvfleet.mv_dirty_keys, mvfleet.mv_pending_requests`;

  beforeAll(async () => {
    await createShopTables(db.sql);
    await migrate({ sql: db.sql, catalog: shopWith({}) });
  });

  it('refuses a declaration that does not fit the database, naming it, and installs nothing', async () => {
    const bad = shopWith({
      totals: { t_orders: { key: { customer_id: { sql: 'placed_on' } } } },
      balance: { t_orders: { columns: ['no_such_column'] }, t_payments: {} },
    });
    await expect(migrate({ sql: db.sql, catalog: bad })).rejects.toThrow(
      /t_customer_totals: capture\.t_orders\.key\.customer_id: \(placed_on\) is date, but key column customer_id is integer/,
    );
    await expect(migrate({ sql: db.sql, catalog: bad })).rejects.toThrow(/t_order_balance: capture\.t_orders\.columns: t_orders has no column no_such_column/);
    await db.sql`CREATE TABLE t_refunds (id integer)`;
    expect(() => shopWith({ balance: { t_refunds: {} } })).toThrow(/capture\.t_refunds: t_refunds is not one of the view's sources/);
    expect(await triggers()).toEqual([]);
  });

  it('installs the triggers once; a second migrate changes nothing', async () => {
    const first = await migrate({ sql: db.sql, catalog: capturing });
    expect(first.capture.installed.sort()).toEqual(['t_customer_totals ← t_orders', 't_order_balance ← t_orders', 't_order_balance ← t_payments']);
    expect(await triggers()).toHaveLength(12);
    const second = await migrate({ sql: db.sql, catalog: capturing });
    expect(second.capture).toEqual({ installed: [], removed: [] });
  });

  it('records the keys of inserted, updated (old and new) and deleted rows, and nothing for a rolled-back write', async () => {
    await clear();
    await db.sql`INSERT INTO t_orders VALUES (900001, 7001, 10, '2026-03-01'), (900002, 7002, 10, '2026-03-01')`;
    await db.sql`UPDATE t_orders SET customer_id = 7003 WHERE id = 900001`;
    await db.sql`DELETE FROM t_orders WHERE id = 900002`;
    await db.sql.begin(async (tx) => {
      await tx`INSERT INTO t_orders VALUES (900003, 7999, 10, '2026-03-01')`;
      await tx`SELECT 1/0`;
    }).catch(() => {});
    const keys = await dirtyKeys();
    expect(new Set(keys.map((key) => JSON.stringify(key)))).toEqual(new Set(['[7001]', '[7002]', '[7003]']));
    expect(keys).not.toContainEqual([7999]);
    // The MV captures orders whole: one request per writing statement.
    expect(await pendingBalance()).toBe(3);
  });

  it('ignores an UPDATE that changes no watched column, and a statement that touched no row', async () => {
    await clear();
    await db.sql`INSERT INTO t_payments VALUES (900001, 1, 5)`;
    expect(await pendingBalance()).toBe(1);
    await db.sql`UPDATE t_payments SET order_id = order_id, amount = amount WHERE id = 900001`;
    await db.sql`DELETE FROM t_payments WHERE id = -1`;
    expect(await pendingBalance()).toBe(1);
    await db.sql`UPDATE t_payments SET amount = 6 WHERE id = 900001`;
    expect(await pendingBalance()).toBe(2);
  });

  it('a running worker refreshes the views after plain SQL writes, with no event', async () => {
    await populateViews({ sql: db.sql, catalog: capturing, triggerDetail: 'test' });
    await clear();
    const worker = createWorker({ backend: queue.backend(), sql: db.sql, catalog: capturing, concurrency: 2, requestPollMs: 50 });
    try {
      await worker.ready();
      await db.sql`INSERT INTO t_orders VALUES (900010, 7010, 42, '2026-03-02')`;
      await db.sql`INSERT INTO t_payments VALUES (900010, 900010, 40)`;
      await waitUntil('the keyed view has the new customer', async () =>
        (await db.sql`SELECT 1 FROM t_customer_totals WHERE customer_id = 7010 AND total = 42`).length === 1 || undefined,
      );
      await waitUntil('the balance view has the new order and its payment', async () =>
        (await db.sql`SELECT 1 FROM t_order_balance WHERE order_id = 900010 AND paid = 40`).length === 1 || undefined,
      );
      await db.sql`TRUNCATE t_payments`;
      await waitUntil('the balance view after TRUNCATE', async () =>
        (await db.sql`SELECT 1 FROM t_order_balance WHERE paid > 0 LIMIT 1`).length === 0 || undefined,
      );
    } finally {
      await worker.close();
    }
  });

  it('removes the triggers of a capture the config no longer declares', async () => {
    const result = await migrate({ sql: db.sql, catalog: shopWith({ totals: { t_orders: { key: { customer_id: 'customer_id' } } } }) });
    expect(result.capture.removed).toHaveLength(8);
    expect(await triggers()).toHaveLength(4);
  });
});
