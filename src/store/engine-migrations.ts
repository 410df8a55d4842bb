import type { Queryable } from '../core/db.js';
import { quoteQualified, type EngineStore } from './engine-schema.js';
import { createRefreshTotals } from './refresh-totals-migration.js';
import { VIEW_FENCE_NAMESPACE } from './view-fence.js';

/**
 * mvfleet's own migrations, applied in order by `mvfleet migrate` and recorded in the
 * engine schema's journal. They ship inside the package, so an app never carries the
 * engine's tables in its own migrations. Append new ones; never edit a released one.
 */
export interface EngineMigration {
  version: number;
  name: string;
  up(tx: Queryable, store: EngineStore): Promise<void>;
}

/**
 * Indexes that mvfleet 0.1 created under the names migration 1 uses, with columns ordered
 * `DESC NULLS LAST` (drizzle's `desc()`). The log's "latest refresh" queries order by
 * `started_at DESC`, nulls first, which such an index cannot return in order: each lookup
 * sorted every row of the view instead of reading one entry.
 */
const nullsLastIndexes: Readonly<Record<string, readonly string[]>> = {
  mv_refresh_log: ['mv_refresh_log_view_started_idx', 'mv_refresh_log_last_success_idx'],
};

/**
 * Before it had a schema of its own, mvfleet kept its tables in the app's first schema on
 * the search path, created by the app's drizzle-kit migrations. Moving them keeps the rows,
 * their ids (identity sequences move with the table) and the indexes; indexes defined
 * otherwise than migration 1 defines them are dropped here, so that it builds them anew.
 */
async function adoptUnqualifiedTables(tx: Queryable, store: EngineStore): Promise<void> {
  for (const table of ['mv_refresh_log', 'mv_dirty_keys', 'mv_table_state']) {
    const [found] = await tx<{ schema: string }[]>`
      SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass(${table}) AND c.relkind = 'r' AND n.nspname <> ${store.schema}`;
    const [taken] = await tx`SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${store.schema} AND c.relname = ${table}`;
    if (!found || taken) continue;
    await tx`ALTER TABLE ${tx(`${found.schema}.${table}`)} SET SCHEMA ${tx(store.schema)}`;
    const names = nullsLastIndexes[table] ?? [];
    if (names.length === 0) continue;
    // indoption bit 0 is DESC, bit 1 NULLS FIRST: 1 is DESC NULLS LAST.
    const stale = await tx<{ name: string }[]>`
      SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = ${`${store.schema}.${table}`}::regclass AND c.relname IN ${tx(names)}
        AND 1 = ANY (i.indoption::int2[])`;
    for (const { name } of stale) await tx`DROP INDEX ${tx(`${store.schema}.${name}`)}`;
  }
}

/**
 * Dirty keys and pending requests are queues: every request appends rows and every refresh
 * deletes them, so dead rows pile up between autovacuum runs and each drain walks them
 * (52,690 dead rows made a drain take 1.8 ms instead of 0.26 ms). Such a table is vacuumed
 * after a fixed number of dead rows, without cost delays.
 */
const vacuumLikeAQueue = (table: string) => `
  ALTER TABLE ${table} SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 5000,
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 5000,
    autovacuum_vacuum_cost_delay = 0
  );`;

export const engineMigrations: readonly EngineMigration[] = [
  {
    version: 1,
    name: 'refresh log, dirty keys, table state',
    async up(tx, store) {
      await adoptUnqualifiedTables(tx, store);
      const log = quoteQualified(store.refreshLog);
      const keys = quoteQualified(store.dirtyKeys);
      await tx.unsafe(`
        CREATE TABLE IF NOT EXISTS ${log} (
          id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
          view_name text NOT NULL,
          status text NOT NULL CONSTRAINT mv_refresh_log_status_check CHECK (status IN ('running', 'success', 'failed', 'skipped')),
          mode text CONSTRAINT mv_refresh_log_mode_check CHECK (mode IN ('concurrent', 'plain')),
          reason text NOT NULL CONSTRAINT mv_refresh_log_reason_check CHECK (reason IN ('schedule', 'event', 'manual', 'api', 'cascade')),
          trigger_detail text,
          job_id text,
          attempt integer NOT NULL DEFAULT 1,
          worker_id text,
          requested_at timestamptz,
          started_at timestamptz NOT NULL DEFAULT now(),
          finished_at timestamptz,
          duration_ms integer,
          lock_wait_ms integer,
          rows_after bigint,
          error_message text,
          error_code text,
          backend_pid integer,
          strategy text CONSTRAINT mv_refresh_log_strategy_check CHECK (strategy IN ('targeted', 'full')),
          keys_refreshed integer,
          rows_corrected bigint
        );
        CREATE INDEX IF NOT EXISTS mv_refresh_log_view_started_idx ON ${log} (view_name, started_at DESC);
        CREATE INDEX IF NOT EXISTS mv_refresh_log_last_success_idx ON ${log} (view_name, started_at DESC) WHERE status = 'success';
        CREATE INDEX IF NOT EXISTS mv_refresh_log_running_idx ON ${log} (view_name) WHERE status = 'running';
        CREATE INDEX IF NOT EXISTS mv_refresh_log_started_idx ON ${log} (started_at);

        CREATE TABLE IF NOT EXISTS ${keys} (
          id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
          view_name text NOT NULL,
          key jsonb NOT NULL,
          event text,
          recorded_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS mv_dirty_keys_view_key_idx ON ${keys} (view_name, key);
        ${vacuumLikeAQueue(keys)}

        CREATE TABLE IF NOT EXISTS ${quoteQualified(store.tableState)} (
          view_name text PRIMARY KEY,
          relid bigint NOT NULL,
          definition_md5 text NOT NULL,
          populated_at timestamptz NOT NULL
        );`);
    },
  },
  {
    version: 2,
    name: 'pending requests',
    async up(tx, store) {
      const pending = quoteQualified(store.pendingRequests);
      await tx.unsafe(`
        CREATE TABLE ${pending} (
          id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
          view_name text NOT NULL,
          reason text NOT NULL CONSTRAINT mv_pending_requests_reason_check CHECK (reason IN ('schedule', 'event', 'manual', 'api', 'cascade')),
          trigger_detail text,
          requested_at timestamptz NOT NULL DEFAULT clock_timestamp(),
          -- When a worker should have picked it up (after the view's coalescing window or a
          -- schedule's jitter): a request still here well after it was lost by the queue.
          due_at timestamptz NOT NULL DEFAULT clock_timestamp()
        );
        CREATE INDEX mv_pending_requests_view_idx ON ${pending} (view_name, requested_at);
        CREATE INDEX mv_pending_requests_due_idx ON ${pending} (due_at);
        ${vacuumLikeAQueue(pending)}`);
    },
  },
  {
    version: 3,
    name: 'coalesced whole-view requests',
    async up(tx, store) {
      const pending = quoteQualified(store.pendingRequests);
      const log = quoteQualified(store.refreshLog);
      // A request that a waiting one already covers is not written: no commit to flush, so an
      // app's hot loop of events costs a read. A waiting request W covers a new one when the
      // refresh that will drain W has not taken its snapshot yet, and no ended attempt can
      // still end W by failing for good. Both hold when (1) no refresh holds the view's fence
      // (every drain happens under it, and a drained-but-uncommitted W is invisible here),
      // checked before (2) a fresh snapshot (a VOLATILE function's next statement) shows the
      // view's latest attempt ended well (success or skipped, so no failed attempt's requests
      // are about to be ended) and W was made after that attempt started.
      // Inside a transaction the shared fence lock is held until commit: the view's refresh
      // waits for the caller's writes, so coalescing stays correct there too.
      await tx.unsafe(`
        CREATE FUNCTION ${quoteQualified(store.requestViewRefresh)}(
          p_view text, p_reason text, p_trigger_detail text, p_due_in_ms float8
        ) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $fn$
        DECLARE
          due timestamptz := clock_timestamp() + make_interval(secs => p_due_in_ms / 1000.0);
          last_status text;
          last_started timestamptz;
        BEGIN
          IF pg_try_advisory_xact_lock_shared(${VIEW_FENCE_NAMESPACE}, hashtext(p_view)) THEN
            SELECT l.status, l.started_at INTO last_status, last_started
            FROM ${log} l WHERE l.view_name = p_view ORDER BY l.started_at DESC LIMIT 1;
            IF last_status IN ('success', 'skipped') AND EXISTS (
              SELECT 1 FROM ${pending} p
              WHERE p.view_name = p_view AND p.requested_at > last_started AND p.due_at <= due
            ) THEN
              RETURN false;
            END IF;
          END IF;
          INSERT INTO ${pending} (view_name, reason, trigger_detail, due_at)
          VALUES (p_view, p_reason, p_trigger_detail, due);
          RETURN true;
        END
        $fn$`);
    },
  },
  { version: 4, name: 'refresh totals', up: createRefreshTotals },
];

/**
 * Creates the engine schema and applies its pending migrations. Runs inside the caller's
 * transaction, which holds the migrate lock.
 * @returns the names of the migrations applied, as `engine NNNN name`.
 */
export async function migrateEngine(tx: Queryable, store: EngineStore): Promise<string[]> {
  await tx`CREATE SCHEMA IF NOT EXISTS ${tx(store.schema)}`;
  await tx`
    CREATE TABLE IF NOT EXISTS ${tx(store.migrations)} (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`;
  const done = new Set((await tx<{ version: number }[]>`SELECT version FROM ${tx(store.migrations)}`).map((row) => row.version));
  const applied: string[] = [];
  for (const migration of engineMigrations) {
    if (done.has(migration.version)) continue;
    await migration.up(tx, store);
    await tx`INSERT INTO ${tx(store.migrations)} (version, name) VALUES (${migration.version}, ${migration.name})`;
    applied.push(`engine ${String(migration.version).padStart(4, '0')} ${migration.name}`);
  }
  return applied;
}

/**
 * The engine schema's applied and latest migration versions (0: never migrated). `current` is
 * the highest version up to which every known migration is applied: a database that holds a
 * later version but misses an earlier one (versions landed out of order) is not current.
 */
export async function engineSchemaVersion(sql: Queryable, store: EngineStore): Promise<{ current: number; latest: number }> {
  const known = engineMigrations.map((migration) => migration.version);
  const latest = Math.max(0, ...known);
  const [journal] = await sql<[{ exists: boolean }]>`SELECT to_regclass(${store.migrations}) IS NOT NULL AS exists`;
  if (!journal.exists) return { current: 0, latest };
  const applied = (await sql<{ version: number }[]>`SELECT version FROM ${sql(store.migrations)}`).map((row) => row.version);
  const firstMissing = Math.min(Infinity, ...known.filter((version) => !applied.includes(version)));
  const current = Math.max(0, ...applied.filter((version) => version < firstMissing));
  return { current, latest };
}
