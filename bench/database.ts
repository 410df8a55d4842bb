import type { Catalog } from '../src/catalog/catalog.js';
import { createDb, type Sql } from '../src/core/db.js';
import { MvfleetError, oneLine } from '../src/core/errors.js';
import { quoteIdent } from '../src/core/identifiers.js';
import { quoteQualified } from '../src/store/engine-schema.js';
import { migrate } from '../src/migrate/migrate.js';
import demoConfig from '../examples/demo/mvfleet.config.js';
import { freshnessStatement } from '../src/reads/read-sql.js';
import { seedDemo, type ScaleName } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';

/** Written as the database's comment once a seed completes; an interrupted seed leaves none. */
interface SeedMarker {
  scale: ScaleName;
  seed: number;
  seededAt: string;
}

const SEED = 42;

export function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export interface PreparedDatabase {
  url: string;
  /** Whether this run seeded it (seeding medium takes about a minute, so it is reused). */
  seeded: boolean;
  seedMs: number | null;
  /** When the data in it was seeded. */
  seededAt: string;
}

/**
 * Creates (once) the bench's own database, migrates it every run (cheap when current) and
 * seeds it only when it does not already hold `scale` or `reseed` is set. Every catalog
 * view is left populated, so scenarios start from MVs that can be refreshed CONCURRENTLY.
 */
export async function prepareBenchDatabase(options: {
  serverUrl: string;
  database: string;
  scale: ScaleName;
  reseed: boolean;
  catalog: Catalog;
  log: (line: string) => void;
}): Promise<PreparedDatabase> {
  const { serverUrl, database, scale, catalog, log } = options;
  const admin = createDb({ url: serverUrl, max: 1, applicationName: 'mvfleet-bench' });
  try {
    await admin.ping();
    const [existing] = await admin.sql<{ comment: string | null }[]>`
      SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = ${database}`;
    if (existing && options.reseed) {
      // Recreated rather than truncated: a database migrated by an older migration history cannot be migrated again.
      log(`dropping database ${database} (--reseed)`);
      await admin.sql.unsafe(`DROP DATABASE "${database}" WITH (FORCE)`);
    }
    if (!existing || options.reseed) {
      log(`creating database ${database}`);
      await admin.sql.unsafe(`CREATE DATABASE "${database}"`);
    }
    const marker = options.reseed ? null : parseMarker(existing?.comment ?? null);
    const url = withDatabase(serverUrl, database);
    const db = createDb({ url, max: 2, applicationName: 'mvfleet-bench' });
    try {
      try {
        await migrate({ sql: db.sql, catalog, migrationsFolder: demoConfig.migrations });
      } catch (error) {
        throw new MvfleetError(`${oneLine(error)} (bench database ${database}: pass --reseed to drop and recreate it)`, { cause: error });
      }
      const needsSeed = marker?.scale !== scale || marker.seed !== SEED;
      let seedMs: number | null = null;
      let seededAt = marker?.seededAt ?? '';
      if (needsSeed) {
        log(`seeding ${database} at ${scale} scale (once; pass --reseed to force)`);
        const result = await seedDemo({ sql: db.sql, scale, seed: SEED, replace: true });
        seedMs = result.durationMs;
        // The refresh log of the previous data says nothing about this data.
        await db.sql`TRUNCATE mvfleet.mv_refresh_log`;
      }
      await populate(db.sql, catalog, needsSeed, log);
      if (needsSeed) {
        seededAt = new Date().toISOString();
        const comment = JSON.stringify({ scale, seed: SEED, seededAt } satisfies SeedMarker).replaceAll("'", "''");
        await admin.sql.unsafe(`COMMENT ON DATABASE "${database}" IS '${comment}'`);
      }
      return { url, seeded: needsSeed, seedMs, seededAt };
    } finally {
      await db.close();
    }
  } finally {
    await admin.close();
  }
}

/**
 * Refreshes every view after a seed, and any view a migration left unpopulated otherwise: an
 * MV that was never refreshed, or a table-stored view without a complete build of its
 * current definition recorded in `mvfleet.mv_table_state` (the executor's full rebuild records one).
 */
async function populate(sql: Sql, catalog: Catalog, all: boolean, log: (line: string) => void): Promise<void> {
  // The reader's own test of "populated" (MV refreshed; table built from this incarnation and definition).
  const unpopulated = new Set<string>();
  for (const view of catalog.views) {
    const freshness = freshnessStatement(catalog.store, view);
    const [state] = await sql.unsafe<[{ populated: boolean | null }]>(freshness.text, freshness.params);
    if (!state.populated) unpopulated.add(view.name);
  }
  const executor = createRefreshExecutor({ sql, catalog, workerId: 'bench-setup' });
  for (const view of catalog.views) {
    if (!all && !unpopulated.has(view.name)) continue;
    log(`populating ${view.name}`);
    await executor.refresh({ view: view.name, reason: 'manual', triggerDetail: 'bench setup' });
  }
}

function parseMarker(comment: string | null): SeedMarker | null {
  if (!comment) return null;
  try {
    const value = JSON.parse(comment) as Partial<SeedMarker>;
    return typeof value.scale === 'string' && typeof value.seed === 'number' && typeof value.seededAt === 'string'
      ? (value as SeedMarker)
      : null;
  } catch {
    return null;
  }
}

/**
 * VACUUMs what refreshes churn (the dirty keys, the pending requests, the refresh log,
 * table-stored views), so a measurement starts from the same state whether or not the server
 * runs autovacuum (this machine's does not): every drained key or covered request leaves a
 * dead row the next drain would step over.
 */
export async function vacuumChurned(sql: Sql, catalog: Catalog): Promise<void> {
  const tables = [
    quoteQualified(catalog.store.dirtyKeys),
    quoteQualified(catalog.store.pendingRequests),
    quoteQualified(catalog.store.refreshLog),
    ...catalog.views.filter((view) => view.storage === 'table').map((view) => quoteIdent(view.name)),
  ];
  await sql.unsafe(`VACUUM (ANALYZE) ${tables.join(', ')}`);
}
