import { access, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { minimalChildEnv } from '../src/config/env.js';
import { describeRun, run, type Finished } from './fixtures/fresh-app/commands.js';
import { REPO, useFreshApps } from './fixtures/fresh-app/fresh-apps.js';
import { adoptionSection, appFiles, shellCommands } from './fixtures/fresh-app/readme.js';
import { waitUntil } from './helpers/wait.js';

/**
 * A team adopts mvfleet from its packed tarball, in a new folder outside the repository,
 * with a schema of its own (a shop, not the demo).
 *
 * The README cannot drift from this test: the TypeScript app's files are the README's
 * `// <path>` code blocks, written out verbatim, and the commands run here are lines of the
 * README's shell blocks in "Use it in your app" (only `mvfleet` in `npm install` becomes the
 * tarball's path); a line the test neither runs nor lists in NOT_RUN fails it. The
 * plain-JavaScript app (test/fixtures/fresh-app/js/) repeats the essentials without
 * TypeScript, on the PostgreSQL queue backend, installed with `--ignore-scripts`.
 */

const JS_APP = fileURLToPath(new URL('./fixtures/fresh-app/js/', import.meta.url));
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

/** README lines the test does not run, and why. */
const NOT_RUN: Readonly<Record<string, string>> = {
  'export DATABASE_URL=postgres://app@127.0.0.1:5432/shop REDIS_URL=redis://127.0.0.1:6379': 'each app gets its own database and queue prefix',
  'npx mvfleet worker': 'started as node_modules/.bin/mvfleet worker (the deploy note), so that SIGTERM reaches it',
  'npx mvfleet scheduler': 'started as node_modules/.bin/mvfleet scheduler, likewise',
  'npx mvfleet dashboard': 'the in-process fleet (src/fleet.ts) serves the dashboard',
  'npx mvfleet up': 'the in-process fleet (src/fleet.ts) runs the same startFleet',
};

const SALES = 'sales_by_category_day';
const REVENUE = 'revenue_by_product_month';

/** A README command line as arguments: words, and '…'-quoted words. */
function argv(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2]!);
}

/** The last line of a script's output, parsed: the app scripts print one JSON line. */
function lastJsonLine<T>(result: Finished): T {
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

interface CacheInfo {
  source: string;
  as_of: string;
  age_minutes: number;
}

interface ReadResult {
  data: Record<string, unknown> | null;
  cache: CacheInfo;
}

describe('a fresh app installs the packed package and follows the README', () => {
  const apps = useFreshApps();

  it('ships dist, bin and README only (npm run pack:check)', () => {
    const packCheck = apps.packCheck();
    console.log(packCheck.stdout);
    expect(packCheck.code, describeRun('npm', ['run', 'pack:check'], packCheck)).toBe(0);
    expect(packCheck.stdout).toMatch(/pack:check: ok \(\d+ files, [\d.]+ kB\)/);
  });

  it.concurrent('a TypeScript app: install, migrate, check, worker and scheduler, emit and read, status, verify, logs, in-process fleet', async ({ expect }) => {
    const section = adoptionSection(await readFile(path.join(REPO, 'README.md'), 'utf8'));
    const commands = shellCommands(section);
    const app = await apps.newApp('shop');
    const env = { ...minimalChildEnv(), DATABASE_URL: app.url, REDIS_URL: apps.redisUrl, MVFLEET_PREFIX: apps.queuePrefix('shop') };
    const ran = new Set<string>();

    /** Runs one command line of the README in the app folder. */
    const step = async (line: string, options: { timeoutMs?: number; extraArgs?: string[]; env?: Record<string, string> } = {}) => {
      expect(commands, `the README's steps include: ${line}`).toContain(line);
      ran.add(line);
      const [command, ...args] = argv(line);
      const resolved = line.startsWith('npm install ') ? args.map((arg) => (arg === 'mvfleet' ? apps.tarball() : arg)) : args;
      const fullArgs = [...resolved, ...(options.extraArgs ?? [])];
      const result = await run(command!, fullArgs, { cwd: app.dir, env: { ...env, ...options.env }, timeoutMs: options.timeoutMs });
      return { ...result, describe: () => describeRun(command!, fullArgs, result) };
    };
    /** Starts one long-running command line of the README in the app folder. */
    const start = (line: string, extraEnv: Record<string, string> = {}) => {
      expect(commands, `the README's steps include: ${line}`).toContain(line);
      ran.add(line);
      const [command, ...args] = argv(line);
      return apps.start(command!, args, { cwd: app.dir, env: { ...env, ...extraEnv } });
    };
    const expectSuccess = (result: Finished & { describe(): string }) => expect(result.code, result.describe()).toBe(0);

    // Steps 1–3: install, and write the README's files.
    const files = appFiles(section);
    expect([...files.keys()].sort()).toEqual([
      'drizzle.config.ts',
      'mvfleet.config.ts',
      'src/fleet.ts',
      'src/place-order.ts',
      'src/refresh-history.ts',
      'src/schema.ts',
    ]);
    expectSuccess(await step('npm install mvfleet drizzle-orm postgres zod', { timeoutMs: 180_000, extraArgs: ['--no-audit', '--no-fund'] }));
    expectSuccess(await step('npm install -D drizzle-kit', { timeoutMs: 120_000, extraArgs: ['--no-audit', '--no-fund'] }));
    for (const [file, contents] of files) {
      await mkdir(path.dirname(path.join(app.dir, file)), { recursive: true });
      await writeFile(path.join(app.dir, file), contents);
    }
    await access(path.join(app.dir, 'node_modules', 'mvfleet', 'dist', 'index.d.ts'));
    // The README's files compile against the package's published types (checked while the app runs).
    await writeFile(
      path.join(app.dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [path.join(REPO, 'node_modules', '@types')],
        },
        include: ['*.ts', 'src'],
      }),
    );
    const typecheck = run(process.execPath, [TSC, '-p', '.'], { cwd: app.dir, env: minimalChildEnv(), timeoutMs: 120_000 }).catch(
      (error: Error): Finished => ({ code: null, signal: null, stdout: '', stderr: error.message }),
    );

    // Step 4, migrations: drizzle-kit's for the app's tables, then mvfleet's own, the views and their indexes.
    const generated = await step('npx drizzle-kit generate');
    expectSuccess(generated);
    const migrated = await step('npx mvfleet migrate');
    expectSuccess(migrated);
    expect(migrated.stdout).toMatch(/migrate: mvfleet schema mvfleet: applied engine .*; applied 0000_\w+; created 2 indexes/);
    const relations = await app.sql<{ schema: string; name: string; kind: string }[]>`
      SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'm', 'v', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
      ORDER BY n.nspname, c.relname`;
    const named = relations.map((relation) => `${relation.schema}.${relation.name}`);
    // Nothing of the demo: migrate creates the engine's schema and what the app's config names.
    expect(named).not.toContain('public.tournaments');
    expect(named).not.toContain('public.mv_kpi_dashboard');
    expect(relations.filter((relation) => relation.schema !== 'mvfleet')).toEqual([
      { schema: 'drizzle', name: '__drizzle_migrations', kind: 'r' },
      { schema: 'public', name: 'orders', kind: 'r' },
      { schema: 'public', name: 'products', kind: 'r' },
      { schema: 'public', name: REVENUE, kind: 'r' },
      { schema: 'public', name: SALES, kind: 'm' },
    ]);
    expect(named).toEqual(
      expect.arrayContaining(['mvfleet.mv_refresh_log', 'mvfleet.mv_dirty_keys', 'mvfleet.mv_table_state', 'mvfleet.schema_migrations']),
    );
    const keyIndexes = await app.sql<{ indexname: string }[]>`
      SELECT indexname FROM pg_indexes WHERE indexname IN (${`${SALES}_key`}, ${`${REVENUE}_key`}) ORDER BY indexname`;
    expect(keyIndexes.map((row) => row.indexname)).toEqual([`${REVENUE}_key`, `${SALES}_key`]);

    // Step 5, check: no errors; its warning is the one the README shows.
    const checked = await step('npx mvfleet check');
    expectSuccess(checked);
    console.log(`mvfleet check in the fresh app:\n${checked.stdout}`);
    expect(checked.stdout).toContain('mvfleet check: 0 errors');
    expect(section).toContain(checked.stdout.trim());

    // Step 6, the fleet, as a process manager would start it (the bin, no npx in between).
    const worker = start('node_modules/.bin/mvfleet worker');
    const scheduler = start('node_modules/.bin/mvfleet scheduler');
    await Promise.all([worker.waitFor('worker started', 60_000), scheduler.waitFor('scheduler synced', 60_000)]);

    // Step 7: the app writes through Drizzle, emits, waits, and reads the views on the same client.
    const lastSuccess = async (view: string) =>
      (
        await app.sql<[{ started_at: Date }?]>`
          SELECT started_at FROM mvfleet.mv_refresh_log WHERE view_name = ${view} AND status = 'success'
          ORDER BY started_at DESC LIMIT 1`
      )[0]?.started_at.toISOString();
    const placeOrder = async () => {
      const result = await step('npx tsx src/place-order.ts');
      expectSuccess(result);
      return lastJsonLine<{ revenue: ReadResult; sales: ReadResult }>(result);
    };
    const latestOrder = async () =>
      (
        await app.sql<[{ product_id: number; day: string; month: string }]>`
          SELECT product_id, placed_on::text AS day, date_trunc('month', placed_on)::date::text AS month
          FROM orders ORDER BY id DESC LIMIT 1`
      )[0];

    const first = await placeOrder();
    const order = await latestOrder();
    expect(first.revenue).toEqual({
      data: { product_id: order.product_id, month: order.month, orders: 1, revenue_cents: 3_600 },
      cache: { source: 'materialized', as_of: await lastSuccess(REVENUE), age_minutes: expect.any(Number) },
    });
    expect(first.sales).toEqual({
      data: { category: 'coffee', day: order.day, orders: 1, revenue_cents: 3_600 },
      cache: { source: 'materialized', as_of: await lastSuccess(SALES), age_minutes: expect.any(Number) },
    });

    // A second order: the populated views are refreshed again (keyed: from the recorded key).
    const second = await placeOrder();
    const again = await latestOrder();
    const [truth] = await app.sql<[{ month_orders: number; month_cents: number; day_orders: number; day_cents: number }]>`
      SELECT count(*) FILTER (WHERE date_trunc('month', placed_on)::date = ${again.month}::date)::int AS month_orders,
             sum(total_cents) FILTER (WHERE date_trunc('month', placed_on)::date = ${again.month}::date)::int AS month_cents,
             count(*) FILTER (WHERE placed_on = ${again.day}::date)::int AS day_orders,
             sum(total_cents) FILTER (WHERE placed_on = ${again.day}::date)::int AS day_cents
      FROM orders WHERE product_id = ${again.product_id}`;
    expect(truth.month_orders).toBeGreaterThan(1);
    expect(second.revenue.data).toEqual({ product_id: again.product_id, month: again.month, orders: truth.month_orders, revenue_cents: truth.month_cents });
    expect(second.sales.data).toEqual({ category: 'coffee', day: again.day, orders: truth.day_orders, revenue_cents: truth.day_cents });
    expect(second.revenue.cache.source).toBe('materialized');
    expect(second.sales.cache.source).toBe('materialized');
    expect(Date.parse(second.revenue.cache.as_of)).toBeGreaterThan(Date.parse(first.revenue.cache.as_of));
    expect(Date.parse(second.sales.cache.as_of)).toBeGreaterThan(Date.parse(first.sales.cache.as_of));

    // The CLI emits too: the product moves to another category, and the MV follows.
    await app.sql`UPDATE products SET category = 'espresso' WHERE id = 1`;
    expectSuccess(await step(`npx mvfleet emit product.recategorized --data '{"productId":1}'`));
    await waitUntil('the refresh after product.recategorized', async () => {
      const [refreshed] = await app.sql`
        SELECT 1 FROM mvfleet.mv_refresh_log
        WHERE view_name = ${SALES} AND status = 'success' AND trigger_detail = 'product.recategorized'`;
      return Boolean(refreshed);
    });
    expect(await app.sql`SELECT DISTINCT category FROM sales_by_category_day`).toEqual([{ category: 'espresso' }]);

    const rowsOf = async (view: string) =>
      (await app.sql.unsafe<[{ rows: number }]>(`SELECT count(*)::int AS rows FROM "${view}"`))[0].rows;
    const status = await step('npx mvfleet status --json');
    expectSuccess(status);
    const statuses = JSON.parse(status.stdout) as { view: string; populated: boolean; rows: number; storage: string; last_status: string; next_run_at: string | null }[];
    expect(statuses).toEqual([
      expect.objectContaining({
        view: SALES,
        populated: true,
        rows: await rowsOf(SALES),
        storage: 'materialized',
        last_status: 'success',
        // The nightly schedule, in MVFLEET_TZ (UTC when unset).
        next_run_at: expect.stringMatching(/T02:00:00\.000Z$/),
      }),
      expect.objectContaining({ view: REVENUE, populated: true, rows: await rowsOf(REVENUE), storage: 'table', last_status: 'success', next_run_at: null }),
    ]);

    const verified = await step('npx mvfleet verify --all');
    expectSuccess(verified);
    expect(verified.stdout).toMatch(new RegExp(`^${SALES}: \\d+ rows, no differences$`, 'm'));
    expect(verified.stdout).toMatch(new RegExp(`^${REVENUE}: \\d+ rows, no differences$`, 'm'));

    const logs = await step(`npx mvfleet logs --view ${SALES} --json`);
    expectSuccess(logs);
    const attempts = JSON.parse(logs.stdout) as { view_name: string; status: string; reason: string; trigger_detail: string | null }[];
    expect(new Set(attempts.map((attempt) => attempt.view_name))).toEqual(new Set([SALES]));
    expect(attempts.map((attempt) => attempt.trigger_detail)).toEqual(
      expect.arrayContaining(['order.placed', 'product.recategorized']),
    );
    expect(attempts.every((attempt) => attempt.status === 'success' && attempt.reason === 'event')).toBe(true);

    // SIGTERM stops both roles cleanly.
    expect(await worker.stop('SIGTERM'), worker.output()).toEqual({ code: 0, signal: null });
    expect(await scheduler.stop('SIGTERM'), scheduler.output()).toEqual({ code: 0, signal: null });

    // The same roles inside the app's own process, serving a refresh of every view.
    const fleet = start('node --import tsx src/fleet.ts', { PORT: '0' });
    await fleet.waitFor('fleet started, dashboard at ', 60_000);
    const dashboardUrl = /dashboard at (http:\/\/\S+)/.exec(fleet.output())![1]!;
    expect((await fetch(`${dashboardUrl}/healthz`)).status).toBe(200);
    const refreshed = await step('npx mvfleet refresh --all --wait', { timeoutMs: 90_000 });
    expectSuccess(refreshed);
    const views = (await (await fetch(`${dashboardUrl}/api/views`)).json()) as { view: string; populated: boolean }[];
    expect(views.map(({ view, populated }) => ({ view, populated }))).toEqual([
      { view: SALES, populated: true },
      { view: REVENUE, populated: true },
    ]);
    expect(await fleet.stop('SIGTERM'), fleet.output()).toEqual({ code: 0, signal: null });

    // mvfleet's tables queried with the app's Drizzle, newest first: each view's newest success
    // among them is the manual refresh's. (Another refresh may have come after it: a worker's
    // poll that saw the manual request before the refresh that drained it committed wakes the
    // view once more, so the two newest rows need not be one of each view.)
    const history = await step('npx tsx src/refresh-history.ts');
    expectSuccess(history);
    const recent = lastJsonLine<{ view: string; status: string; strategy: string | null; startedAt: string }[]>(history);
    expect(recent).toHaveLength(5);
    const newestSuccess = (view: string) => recent.find((row) => row.view === view && row.status === 'success');
    expect(newestSuccess(SALES)).toEqual({ view: SALES, status: 'success', strategy: 'full', startedAt: await lastSuccess(SALES) });
    expect(newestSuccess(REVENUE)).toEqual({ view: REVENUE, status: 'success', strategy: 'full', startedAt: await lastSuccess(REVENUE) });

    const typechecked = await typecheck;
    expect(typechecked.code, describeRun('tsc', ['-p', '.'], typechecked)).toBe(0);
    expect(commands.filter((line) => !ran.has(line) && !(line in NOT_RUN)), 'README steps this test neither runs nor lists in NOT_RUN').toEqual([]);
  }, 240_000);

  it.concurrent('a plain JavaScript app: mvfleet.config.mjs and app.mjs on the PostgreSQL queue, installed without install scripts', async ({ expect }) => {
    const app = await apps.newApp('shop-js');
    const env = { ...minimalChildEnv(), DATABASE_URL: app.url };
    const expectSuccess = (command: string, args: string[], result: Finished) =>
      expect(result.code, describeRun(command, args, result)).toBe(0);
    const runIn = async (command: string, args: string[], timeoutMs?: number) => {
      const result = await run(command, args, { cwd: app.dir, env, timeoutMs });
      expectSuccess(command, args, result);
      return result;
    };

    await cp(JS_APP, app.dir, { recursive: true });
    await runIn('npm', ['install', apps.tarball(), 'drizzle-orm', 'postgres', 'zod', '--no-audit', '--no-fund', '--ignore-scripts'], 180_000);

    // The MV is not in the app's migrations: migrate creates it from the config.
    const migrated = await runIn('npx', ['mvfleet', 'migrate']);
    expect(migrated.stdout).toMatch(/applied 0000_init; created views daily_revenue; created 1 indexes/);

    const worker = apps.start('node_modules/.bin/mvfleet', ['worker'], { cwd: app.dir, env });
    await worker.waitFor('worker started', 60_000);
    const placed = await runIn(process.execPath, ['app.mjs']);
    const { refreshes, data, cache } = lastJsonLine<{ refreshes: Record<string, { status: string }>; data: unknown; cache: CacheInfo }>(placed);
    const [order] = await app.sql<[{ day: string }]>`SELECT placed_on::text AS day FROM orders`;
    expect(refreshes).toEqual({ daily_revenue: expect.objectContaining({ status: 'success' }) });
    expect(data).toEqual({ day: order.day, orders: 1, revenue_cents: 4_250 });
    expect(cache.source).toBe('materialized');

    const verified = await runIn('npx', ['mvfleet', 'verify', '--all']);
    expect(verified.stdout).toContain('daily_revenue: 1 rows, no differences');
    expect(await worker.stop('SIGTERM'), worker.output()).toEqual({ code: 0, signal: null });
  }, 240_000);
});
