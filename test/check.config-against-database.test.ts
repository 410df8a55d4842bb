import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql as drizzleSql } from 'drizzle-orm';
import { integer, pgMaterializedView, pgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCatalog } from '../src/catalog/catalog.js';
import { checkCatalog, type CheckFinding } from '../src/check/check-config.js';
import { migrate } from '../src/migrate/migrate.js';
import { runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/database.js';
import { useChildProcesses } from './helpers/processes.js';
import { createShopTables, dailySales, orderBalance, shopEvents, shopViews } from './fixtures/shop-catalog.js';

const shopCatalog = createCatalog({ views: shopViews, events: shopEvents });

const SCRATCH = fileURLToPath(new URL('./.scratch/', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/shop-catalog.ts', import.meta.url));

/** What the shop's database gives when everything `migrate` creates is in place: warnings only. */
const shopWarnings = [
  {
    level: 'warning',
    view: 't_order_balance',
    message:
      'no schedule: a change to t_orders and t_payments that no order.placed event follows stays invisible ' +
      'until a manual refresh; add a schedule as a backstop',
  },
  {
    level: 'warning',
    view: 't_customer_totals',
    message:
      'event order.placed carries no customerId (keyed.eventKeys reads it for customer_id), ' +
      'so every emit of order.placed is refused: add customerId to its payload schema',
  },
  {
    level: 'warning',
    view: 't_customer_totals',
    message:
      'event payment.received has no keyed.eventKeys entry, so each one refreshes the whole view: ' +
      'map its payload fields to customer_id to refresh only the keys it touches',
  },
  {
    level: 'warning',
    view: 't_customer_totals',
    message: expect.stringMatching(/^a targeted refresh reads all of t_orders \(Seq Scan of ~20,000 rows, filter .*customer_id.*\): index the column/),
  },
  {
    level: 'warning',
    view: 't_daily_sales',
    message:
      'nothing refreshes it but a manual request (no schedule, no events, no upstream view): ' +
      'add a schedule, or the events that follow changes to t_orders',
  },
];

describe('mvfleet check compares the config with the database', () => {
  const db = useTestDatabase({ empty: true });
  const processes = useChildProcesses();
  let configFile: string;

  beforeAll(async () => {
    await createShopTables(db.sql);
    await migrate({ sql: db.sql, catalog: shopCatalog });
    // A config as an app writes it, importing mvfleet by its package name.
    const folder = path.join(SCRATCH, `check-${randomBytes(4).toString('hex')}`);
    await mkdir(folder, { recursive: true });
    configFile = path.join(folder, 'mvfleet.config.ts');
    const fixture = path.relative(folder, FIXTURE).replace(/\.ts$/, '.js');
    await writeFile(
      configFile,
      `import { defineConfig } from 'mvfleet';\n` +
        `import { shopEvents, shopViews } from '${fixture}';\n\n` +
        'export default defineConfig({ views: shopViews, events: shopEvents });\n',
    );
  });

  afterAll(async () => {
    if (configFile) await rm(path.dirname(configFile), { recursive: true, force: true });
  });

  it('warns, naming the view, about sources no schedule or event covers, events without keys and unindexed scope keys', async () => {
    expect(await checkCatalog({ sql: db.sql, catalog: shopCatalog })).toEqual(shopWarnings);
  });

  it('an index on the scope key column clears the Seq Scan warning', async () => {
    await db.sql`CREATE INDEX t_orders_customer_idx ON t_orders (customer_id)`;
    try {
      const findings = await checkCatalog({ sql: db.sql, catalog: shopCatalog });
      expect(findings.map((finding) => finding.message)).not.toContainEqual(expect.stringContaining('Seq Scan'));
      expect(findings).toHaveLength(shopWarnings.length - 1);
    } finally {
      await db.sql`DROP INDEX t_orders_customer_idx`;
    }
  });

  it('a missing index is an error naming it and `mvfleet migrate`; after migrate it is gone', async () => {
    await db.sql`DROP INDEX t_daily_sales_total_idx`;
    await db.sql`DROP INDEX t_customer_totals_key`;
    try {
      const errors = (await checkCatalog({ sql: db.sql, catalog: shopCatalog })).filter((finding) => finding.level === 'error');
      expect(errors).toEqual([
        {
          level: 'error',
          view: 't_customer_totals',
          message:
            'unique key index t_customer_totals_key on (customer_id) is missing: every refresh fails ' +
            '(its upsert needs the unique key); run `mvfleet migrate` to create it',
        },
        {
          level: 'error',
          view: 't_daily_sales',
          message:
            'index t_daily_sales_total_idx on (total) is missing: reads filtering on total scan the whole view; ' +
            'run `mvfleet migrate` to create it',
        },
      ]);
    } finally {
      await migrate({ sql: db.sql, catalog: shopCatalog });
    }
    expect(await checkCatalog({ sql: db.sql, catalog: shopCatalog })).toEqual(shopWarnings);
  });

  it('a view that is missing or stored differently, or a source table that does not exist, is an error', async () => {
    const catalog = createCatalog({
      events: shopEvents,
      views: [
        orderBalance,
        // Declared as a keyed table, but the database holds the materialized view.
        {
          ...dailySales,
          view: pgTable('t_daily_sales', { total: integer('total').notNull() }),
          uniqueKey: ['total'],
          indexes: [],
          keyed: { scopeKey: ['total'], query: () => drizzleSql`SELECT 1 AS total`, eventKeys: {} },
        },
        {
          view: pgMaterializedView('t_refund_totals', { orderId: integer('order_id').notNull() }).as(
            drizzleSql`SELECT order_id FROM t_refunds`,
          ),
          description: 'Refunds per order.',
          uniqueKey: ['order_id'],
          sources: ['t_refunds'],
          schedule: { kind: 'every', everyMs: 60_000, jitterMs: 0 },
        },
      ],
    });
    const errors = (await checkCatalog({ sql: db.sql, catalog })).filter((finding) => finding.level === 'error');
    expect(errors).toEqual([
      {
        level: 'error',
        view: 't_daily_sales',
        message:
          'is a materialized view in the database but the catalog stores it as a table: ' +
          'generate the migration that switches it (drizzle-kit generate), then run `mvfleet migrate`',
      },
      {
        level: 'error',
        view: 't_refund_totals',
        message: 'the materialized view does not exist: run `mvfleet migrate` (it creates catalog views)',
      },
      {
        level: 'error',
        view: 't_refund_totals',
        message: 'source table t_refunds does not exist: apply the migration that creates it, or correct `sources` (the tables the view reads)',
      },
    ]);
  });

  it("mvfleet's own tables missing is an error that says to run `mvfleet migrate`", async () => {
    const catalog = createCatalog({ views: shopViews, events: shopEvents, schema: 'shop_engine' });
    const findings = await checkCatalog({ sql: db.sql, catalog });
    expect(findings[0]).toEqual({
      level: 'error',
      message: 'mvfleet\'s own tables are missing (schema "shop_engine"): run `mvfleet migrate`',
    });
    expect(findings.slice(1)).toEqual(shopWarnings);
  });

  it('a key-restricted query that no longer plans is a warning, and the other findings still come', async () => {
    await db.sql`ALTER TABLE t_orders RENAME COLUMN amount TO amount_gross`;
    let findings: CheckFinding[];
    try {
      findings = await checkCatalog({ sql: db.sql, catalog: shopCatalog });
    } finally {
      await db.sql`ALTER TABLE t_orders RENAME COLUMN amount_gross TO amount`;
    }
    expect(findings.filter((finding) => finding.view === 't_customer_totals').at(-1)).toEqual({
      level: 'warning',
      view: 't_customer_totals',
      message: expect.stringMatching(/^could not plan its key-restricted query, so its source indexes were not checked: .*amount/),
    });
    expect(findings.filter((finding) => finding.view === 't_daily_sales')).toEqual(shopWarnings.slice(-1));
  });

  it('the CLI prints one line per finding and a summary, exits 0 on warnings and 1 on an error', async () => {
    const env = { DATABASE_URL: db.url };
    const clean = await runCli(['check', '--config', configFile], env);
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);
    const lines = clean.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(shopWarnings.length + 1);
    expect(lines[0]).toBe(`warning t_order_balance: ${shopWarnings[0]!.message as string}`);
    expect(lines.at(-1)).toBe('mvfleet check: 0 errors, 5 warnings in 4 views');

    const json = await runCli(['check', '--json', '--config', configFile], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(shopWarnings);

    await db.sql`DROP INDEX t_daily_sales_total_idx`;
    try {
      const broken = await runCli(['check', '--config', configFile], env);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toContain('\nerror  t_daily_sales: index t_daily_sales_total_idx on (total) is missing:');
      expect(broken.stdout.trimEnd().split('\n').at(-1)).toBe('mvfleet check: 1 error, 5 warnings in 4 views');
    } finally {
      await migrate({ sql: db.sql, catalog: shopCatalog });
    }
  });

  it('the CLI exits 2 on bad arguments, and without a config names the file it looked for', async () => {
    const badArgs = await runCli(['check', '--verbose', '--config', configFile], { DATABASE_URL: db.url });
    expect(badArgs.code).toBe(2);
    expect(badArgs.stderr).toMatch(/Unknown option '--verbose'/);

    const empty = await mkdtemp(path.join(tmpdir(), 'mvfleet-check-'));
    try {
      const noConfig = await runCli(['check'], { DATABASE_URL: db.url }, { cwd: empty });
      expect(noConfig.code).toBe(2);
      expect(noConfig.stderr).toMatch(/no mvfleet config found: looked for mvfleet\.config\.ts/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('a worker logs each finding as a warning when it starts, and starts anyway', async () => {
    const worker = processes.cli(['worker', '--config', configFile], {
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
      MVFLEET_PREFIX: `{check-${randomBytes(4).toString('hex')}}`,
      LOG_LEVEL: 'info',
    });
    await worker.waitFor('worker started');
    const warnings = worker
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; view?: string; msg: string })
      .filter((entry) => entry.level === 40);
    expect(warnings.map(({ view, msg }) => ({ level: 'warning', view, message: msg }))).toEqual(shopWarnings);
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
  });
});
