import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCatalog } from '../src/catalog/catalog.js';
import { checkCatalog } from '../src/check/check-config.js';
import { createDb, type DbHandle } from '../src/core/db.js';
import { readViewStatuses } from '../src/dashboards/view-status.js';
import { startWorker } from '../src/fleet/start-fleet.js';
import { migrate } from '../src/migrate/migrate.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { createShopTables, shopEvents, shopViews } from './fixtures/shop-catalog.js';
import { useTestDatabase } from './helpers/database.js';
import { databaseUrl } from './helpers/database-names.js';
import { useTestQueue } from './helpers/queue-backend.js';

const catalog = createCatalog({ views: shopViews, events: shopEvents });

/**
 * A worker whose database role cannot do a worker's job says so: it refuses to start when it
 * cannot write mvfleet's tables (its failures would leave no trace), and a view it cannot
 * refresh is reported by `check` and fails with a logged attempt that the status shows.
 */
describe('a worker role without the privileges to refresh', () => {
  const db = useTestDatabase({ empty: true });
  const queue = useTestQueue(db);
  const suffix = randomBytes(3).toString('hex');
  const reader = `mvfleet_reader_${suffix}`;
  const writer = `mvfleet_writer_${suffix}`;
  const handles: DbHandle[] = [];
  const connectAs = (role: string) => {
    const url = new URL(databaseUrl(inject('postgresUrl'), db.name));
    url.username = role;
    url.password = '';
    const handle = createDb({ url: url.toString(), max: 4 });
    handles.push(handle);
    return handle;
  };

  beforeAll(async () => {
    await createShopTables(db.sql);
    await migrate({ sql: db.sql, catalog });
    await db.sql.unsafe(`
      CREATE ROLE ${reader} LOGIN; CREATE ROLE ${writer} LOGIN;
      GRANT USAGE ON SCHEMA mvfleet TO ${reader}, ${writer};
      GRANT SELECT ON ALL TABLES IN SCHEMA public, mvfleet TO ${reader}, ${writer};
      GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA mvfleet TO ${writer};
      GRANT INSERT, UPDATE, DELETE ON t_customer_totals TO ${writer};`);
  });
  afterAll(async () => {
    for (const handle of handles) await handle.close();
    await db.sql.unsafe(`DROP OWNED BY ${reader}, ${writer}; DROP ROLE ${reader}; DROP ROLE ${writer};`);
  });

  it('a role that cannot write mvfleet’s tables is refused at start, naming them', async () => {
    const as = connectAs(reader);
    await expect(startWorker({ sql: as.sql, backend: queue.backend(), catalog })).rejects.toThrow(
      /the database role cannot write mvfleet\.mv_refresh_log, .*: grant it INSERT, UPDATE and DELETE/,
    );
  });

  it('check names each view the role cannot refresh; its failed attempt is logged and shows in the status', async () => {
    const as = connectAs(writer);
    const findings = await checkCatalog({ sql: as.sql, catalog });
    const denied = findings.filter((finding) => finding.message.startsWith('the database role cannot'));
    expect(denied.map((finding) => finding.view).sort()).toEqual(['t_daily_sales', 't_order_balance', 't_unpaid_orders']);

    await expect(createRefreshExecutor({ sql: as.sql, catalog }).refresh({ view: 't_order_balance', reason: 'manual' })).rejects.toThrow(
      /must be owner of materialized view t_order_balance/,
    );
    const status = (await readViewStatuses(db.sql, catalog)).find((row) => row.view === 't_order_balance');
    expect(status).toMatchObject({ view: 't_order_balance', last_status: 'failed', consecutive_failures: 1 });
    expect(status!.last_error).toMatch(/must be owner/);
  });
});
