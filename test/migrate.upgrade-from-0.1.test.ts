/**
 * A database that mvfleet 0.1 migrated and ran — its tables in the app's `public` schema,
 * created by the example's drizzle migrations 0000–0003 — is upgraded by `mvfleet migrate`:
 * the refresh history, pending keys and table-view state move to schema `mvfleet` unchanged,
 * and the fleet carries on from them.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createCatalog } from '../src/catalog/catalog.js';
import type { Sql } from '../src/core/db.js';
import { migrate } from '../src/migrate/migrate.js';
import { recordDirtyKeys } from '../src/store/pending-requests.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { demoCatalog, demoViewDefinitions } from '../examples/demo/schema/catalog.js';
import { demoEvents } from '../examples/demo/schema/events.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { demoMigrationsFolder, demoMigrationsThrough } from './helpers/catalog.js';
import { runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/database.js';
import { viewAndReference } from './helpers/reference-views.js';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));

/** The last migration of the example that mvfleet 0.1 shipped. */
const LAST_0_1_MIGRATION = '0003_dirty_keys_autovacuum';

/** 0.1's catalog: the same views and events, with its bookkeeping in `public`. */
const catalog01 = createCatalog({ views: demoViewDefinitions, events: demoEvents, schema: 'public' });

const ENGINE_TABLES = ['mv_refresh_log', 'mv_dirty_keys', 'mv_table_state'] as const;

/** Every column of a table, rows in id (or first column) order, as JSON text for exact comparison. */
async function tableRows(sql: Sql, qualified: string, orderBy: string): Promise<unknown[]> {
  const rows = await sql.unsafe(`SELECT to_jsonb(t) AS row FROM ${qualified} t ORDER BY ${orderBy}`);
  return rows.map((row) => row.row as unknown);
}

/** Schemas holding a table of this name. */
async function schemasOf(sql: Sql, table: string): Promise<string[]> {
  const rows = await sql<{ schema: string }[]>`
    SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relname = ${table} AND c.relkind = 'r' ORDER BY 1`;
  return rows.map((row) => row.schema);
}

/**
 * The definition of everything in schema mvfleet: tables with their columns, defaults, identity,
 * constraints, indexes and storage options, and sequences with the column owning them.
 */
async function engineSchemaShape(sql: Sql) {
  const [shape] = await sql<[{ relations: unknown; columns: unknown; constraints: unknown }]>`
    SELECT
      (SELECT json_agg(json_build_object('name', c.relname, 'kind', c.relkind, 'options', c.reloptions,
                'index', pg_get_indexdef(c.oid), 'owner', owner.attrelid::regclass::text || '.' || owner.attname)
              ORDER BY c.relname)
         FROM pg_class c
         LEFT JOIN pg_depend d ON d.objid = c.oid AND c.relkind = 'S' AND d.deptype IN ('a', 'i')
         LEFT JOIN pg_attribute owner ON owner.attrelid = d.refobjid AND owner.attnum = d.refobjsubid
         WHERE c.relnamespace = 'mvfleet'::regnamespace) AS relations,
      (SELECT json_agg(json_build_object('table', a.attrelid::regclass::text, 'column', a.attname,
                'type', format_type(a.atttypid, a.atttypmod), 'notNull', a.attnotnull, 'identity', a.attidentity,
                'default', pg_get_expr(ad.adbin, ad.adrelid))
              ORDER BY a.attrelid::regclass::text, a.attnum)
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
         WHERE c.relnamespace = 'mvfleet'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
      (SELECT json_agg(json_build_object('table', conrelid::regclass::text, 'name', conname, 'definition', pg_get_constraintdef(oid))
              ORDER BY conrelid::regclass::text, conname)
         FROM pg_constraint WHERE connamespace = 'mvfleet'::regnamespace) AS constraints`;
  return shape;
}

describe('upgrading a database that mvfleet 0.1 migrated', () => {
  const db = useTestDatabase({ empty: true });
  /** A database the new version migrated from scratch. */
  const fresh = useTestDatabase({ max: 2 });
  const folders: string[] = [];
  afterAll(async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it('moves the refresh log, pending keys and table state into schema mvfleet, and the fleet carries on from them', async () => {
    // 0.1's state: its migrate applied 0000–0003 (drizzle journal rows with the journal's `when`
    // and the file's sha256) and ensured the views. Today's migrate does the same and also
    // creates schema mvfleet first; dropping that schema leaves exactly what 0.1 left.
    const folder01 = await demoMigrationsThrough(LAST_0_1_MIGRATION);
    folders.push(folder01);
    await migrate({ sql: db.sql, catalog: demoCatalog, migrationsFolder: folder01 });
    await db.sql`DROP SCHEMA mvfleet CASCADE`;
    expect(await schemasOf(db.sql, 'mv_refresh_log')).toEqual(['public']);

    // 0.1 ran: every view refreshed (table views record their build in public.mv_table_state),
    // one refresh failed, and an event left a key waiting for the next targeted refresh.
    await seedDemo({ sql: db.sql, scale: 'small' });
    // Today's executor stands in for 0.1's; it also reads the pending requests, which 0.1 did
    // not have: a stand-in table for the refreshes, dropped before the upgrade.
    await db.sql`CREATE TABLE public.mv_pending_requests (id bigint GENERATED ALWAYS AS IDENTITY, view_name text, reason text, trigger_detail text, requested_at timestamptz, due_at timestamptz)`;
    const executor01 = createRefreshExecutor({ sql: db.sql, catalog: catalog01, workerId: 'worker-0.1' });
    for (const view of catalog01.views) {
      expect((await executor01.refresh({ view: view.name, reason: 'manual' })).status, view.name).toBe('success');
    }
    await db.sql`
      INSERT INTO public.mv_refresh_log
        (view_name, status, mode, reason, trigger_detail, job_id, attempt, worker_id, requested_at, started_at,
         finished_at, duration_ms, lock_wait_ms, error_message, error_code, backend_pid)
      VALUES ('mv_kpi_dashboard', 'failed', 'concurrent', 'schedule', 'kpi-hourly', 'repeat:kpi:1', 3, 'worker-0.1',
         now() - interval '2 minutes', now() - interval '1 minute', now() - interval '50 seconds', 10000, 9950,
         'canceling statement due to lock timeout', '55P03', 4242)`;
    const [tournament] = await db.sql<[{ id: number }]>`SELECT min(id)::int AS id FROM tournaments`;
    await db.sql`UPDATE matches SET state = 'disputed' WHERE id = (SELECT min(id) FROM matches WHERE tournament_id = ${tournament.id})`;
    await recordDirtyKeys(db.sql, catalog01.store, 'match.completed', [{ view: 'tournament_analytics_summary', key: [tournament.id] }]);
    await db.sql`DROP TABLE public.mv_pending_requests`;

    const oldLog = await tableRows(db.sql, 'public.mv_refresh_log', 'id');
    const oldKeys = await tableRows(db.sql, 'public.mv_dirty_keys', 'id');
    const oldTableState = await tableRows(db.sql, 'public.mv_table_state', 'view_name');
    expect(oldLog).toHaveLength(catalog01.views.length + 1);
    expect(oldKeys).toHaveLength(1);
    expect(oldTableState.map((row) => (row as { view_name: string }).view_name)).toEqual(
      demoCatalog.views.filter((view) => view.storage === 'table').map((view) => view.name).sort(),
    );
    const lastOldId = Math.max(...oldLog.map((row) => (row as { id: number }).id));

    const upgrade = await runCli(['migrate'], { DATABASE_URL: db.url }, { cwd: repositoryRoot });
    expect(upgrade.stderr).toBe('');
    expect(upgrade.code).toBe(0);
    expect(upgrade.stdout).toMatch(/engine 0001 .*engine 0002 .*applied 0004_engine_tables_leave_public/);

    // Same rows, ids and values, now in mvfleet's schema; no copies left in public.
    expect(await tableRows(db.sql, 'mvfleet.mv_refresh_log', 'id')).toEqual(oldLog);
    expect(await tableRows(db.sql, 'mvfleet.mv_dirty_keys', 'id')).toEqual(oldKeys);
    expect(await tableRows(db.sql, 'mvfleet.mv_table_state', 'view_name')).toEqual(oldTableState);
    for (const table of ENGINE_TABLES) expect(await schemasOf(db.sql, table), table).toEqual(['mvfleet']);
    const journal = await db.sql<{ created_at: string }[]>`SELECT created_at FROM drizzle.__drizzle_migrations ORDER BY id`;
    const entries = (JSON.parse(await readFile(path.join(demoMigrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
      entries: { tag: string; when: number }[];
    }).entries;
    expect(journal.map((row) => Number(row.created_at))).toEqual(entries.map((entry) => entry.when));
    expect(entries.at(-1)?.tag).toBe('0004_engine_tables_leave_public');
    expect(await db.sql`SELECT version FROM mvfleet.schema_migrations ORDER BY version`).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }]);
    // The queue table keeps its vacuum settings, the log its identity sequence, now in mvfleet.
    const [queueTable] = await db.sql<[{ options: string[] }]>`SELECT reloptions AS options FROM pg_class WHERE oid = 'mvfleet.mv_dirty_keys'::regclass`;
    expect(queueTable.options).toEqual(expect.arrayContaining(['autovacuum_vacuum_threshold=5000', 'autovacuum_vacuum_scale_factor=0']));
    const [sequences] = await db.sql<[{ log: string | null; keys: string | null }]>`
      SELECT pg_get_serial_sequence('mvfleet.mv_refresh_log', 'id') AS log, pg_get_serial_sequence('mvfleet.mv_dirty_keys', 'id') AS keys`;
    expect(sequences).toEqual({ log: 'mvfleet.mv_refresh_log_id_seq', keys: 'mvfleet.mv_dirty_keys_id_seq' });

    // Down to index definitions and storage options, the upgraded schema is the one a new install gets.
    const shape = await engineSchemaShape(db.sql);
    expect(shape).toEqual(await engineSchemaShape(fresh.sql));
    const again = await runCli(['migrate'], { DATABASE_URL: db.url }, { cwd: repositoryRoot });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/is up to date/);
    expect(await engineSchemaShape(db.sql)).toEqual(shape);
    expect(await tableRows(db.sql, 'mvfleet.mv_refresh_log', 'id')).toEqual(oldLog);

    // The fleet runs on: the keyed refresh finds the table view built (its state came along),
    // recomputes just the waiting key, and logs after the old rows.
    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog, workerId: 'worker-0.2' });
    const keyed = await executor.refresh({ view: 'tournament_analytics_summary', reason: 'event', scope: 'keys' });
    expect(keyed).toMatchObject({ status: 'success', strategy: 'targeted', keysRefreshed: 1 });
    expect(await db.sql`SELECT count(*)::int AS n FROM mvfleet.mv_dirty_keys`).toEqual([{ n: 0 }]);
    const tournamentView = demoCatalog.get('tournament_analytics_summary');
    const { actual, expected } = await viewAndReference(db.sql, tournamentView);
    expect(actual).toEqual(expected);

    const whole = await executor.refresh({ view: 'mv_kpi_dashboard', reason: 'manual' });
    expect(whole.status).toBe('success');
    const newRows = await db.sql<{ id: number; view_name: string; status: string }[]>`
      SELECT id, view_name, status FROM mvfleet.mv_refresh_log WHERE worker_id = 'worker-0.2' ORDER BY id`;
    expect(newRows).toEqual([
      { id: (keyed as { logId: number }).logId, view_name: 'tournament_analytics_summary', status: 'success' },
      { id: (whole as { logId: number }).logId, view_name: 'mv_kpi_dashboard', status: 'success' },
    ]);
    expect(newRows[0]!.id).toBeGreaterThan(lastOldId);
  }, 120_000);
});
