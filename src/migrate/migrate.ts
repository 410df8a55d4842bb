import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Catalog } from '../catalog/catalog.js';
import type { Queryable, Sql } from '../core/db.js';
import { MvfleetError } from '../core/errors.js';
import { quoteIdent } from '../core/identifiers.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { installCapture, type InstallCaptureResult } from '../capture/install-capture.js';
import { migrateEngine } from '../store/engine-migrations.js';
import { ensureViews, type EnsureViewsResult } from './ensure-views.js';
import { planMigration } from './migration-plan.js';
import { findDependentViews } from './view-dependencies.js';

/** Options for {@link migrate}. */
export interface MigrateOptions {
  sql: Sql;
  catalog: Catalog;
  /**
   * The app's folder written by `drizzle-kit generate`, applied after mvfleet's own
   * migrations (with drizzle-orm's journal, `drizzle.__drizzle_migrations`).
   * @defaultValue undefined: none of the app's migrations are applied
   */
  migrationsFolder?: string | undefined;
  /** @defaultValue a silent logger */
  logger?: Logger;
}

export interface MigrateResult extends EnsureViewsResult {
  /** mvfleet's own migrations applied by this run (in the catalog's engine schema). */
  engineApplied: string[];
  /** Tags of the app's migrations applied by this run. */
  applied: string[];
  /** Catalog views dropped because a view they read was dropped; recreated afterwards. */
  droppedDependants: string[];
  /** Capture triggers created or updated, and removed (see `capture` in the view definitions). */
  capture: InstallCaptureResult;
}

interface JournalEntry {
  tag: string;
  when: number;
}

interface Migration {
  tag: string;
  createdAt: number;
  hash: string;
  statements: string[];
}

/** Reads migrations exactly as drizzle-orm's migrator does, so both agree on what is applied. */
async function readMigrations(folder: string): Promise<Migration[]> {
  const journalPath = path.join(folder, 'meta', '_journal.json');
  let journal: { entries: JournalEntry[] };
  try {
    journal = JSON.parse(await readFile(journalPath, 'utf8'));
  } catch (error) {
    throw new MvfleetError(`cannot read migration journal ${journalPath}`, { cause: error });
  }
  return Promise.all(
    journal.entries.map(async (entry) => {
      const text = await readFile(path.join(folder, `${entry.tag}.sql`), 'utf8');
      return {
        tag: entry.tag,
        createdAt: entry.when,
        hash: createHash('sha256').update(text).digest('hex'),
        statements: text.split('--> statement-breakpoint'),
      };
    }),
  );
}

/** Drops the catalog views that read `view` (deepest first), refusing to touch views it does not own. */
async function dropDependants(tx: Queryable, view: string, catalog: Catalog): Promise<string[]> {
  const dependants = await findDependentViews(tx, view);
  const foreign = dependants.filter((dependant) => dependant.kind !== 'materialized' || !catalog.has(dependant.name));
  if (foreign.length > 0) {
    const names = foreign.map((dependant) => `${dependant.schema}.${dependant.name}`).join(', ');
    throw new MvfleetError(
      `migration drops materialized view ${view}, but ${names} depend on it and are not catalog views; drop them first`,
    );
  }
  const deepestFirst = [...dependants].sort((a, b) => b.depth - a.depth);
  for (const dependant of deepestFirst) {
    await tx.unsafe(`DROP MATERIALIZED VIEW IF EXISTS ${quoteIdent(dependant.name)}`);
  }
  return deepestFirst.map((dependant) => dependant.name);
}

/**
 * Creates or upgrades mvfleet's own schema, applies the app's pending drizzle-kit migrations
 * (when `migrationsFolder` is given), then guarantees every catalog view exists with its
 * indexes, and installs the capture triggers views declare: all in one transaction under an advisory lock (several processes may run
 * `migrate` at once during a deploy). It creates nothing the catalog does not name, and a
 * second run changes nothing.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const { sql, catalog } = options;
  const logger = options.logger ?? silentLogger();
  const migrations = options.migrationsFolder ? await readMigrations(options.migrationsFolder) : [];

  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext('mvfleet:migrate'))`;
    const engineApplied = await migrateEngine(tx, catalog.store);
    for (const migration of engineApplied) logger.debug({ migration }, 'applied mvfleet migration');
    await keepAppObjectsOutOfEngineSchema(tx, catalog.store.schema);
    const { applied, droppedDependants } = await applyAppMigrations(tx, catalog, migrations, logger);
    const ensured = await ensureViews(tx, catalog);
    for (const view of ensured.createdViews) logger.debug({ view }, 'created materialized view (unpopulated)');
    for (const index of [...ensured.createdIndexes, ...ensured.replacedIndexes]) logger.debug({ index }, 'created index');
    const capture = await installCapture(tx, catalog);
    for (const pair of capture.installed) logger.debug({ capture: pair }, 'installed capture triggers');
    return { engineApplied, applied, droppedDependants, ...ensured, capture };
  });
}

/**
 * The app's migrations and views name their objects without a schema, so they land in the
 * first schema of the search path; PostgreSQL's default path starts with `"$user"`, which is
 * the engine's schema when the database role has its name. For this transaction, the search
 * path is the session's without the engine schema.
 */
async function keepAppObjectsOutOfEngineSchema(tx: Queryable, schema: string): Promise<void> {
  await tx`
    SELECT set_config('search_path',
      COALESCE((SELECT string_agg(quote_ident(s), ', ') FROM unnest(current_schemas(false)) AS s WHERE s <> ${schema}), 'public'),
      true)`;
}

/** Applies the app's drizzle-kit migrations newer than the last one its journal records. */
async function applyAppMigrations(
  tx: Queryable,
  catalog: Catalog,
  migrations: readonly Migration[],
  logger: Logger,
): Promise<{ applied: string[]; droppedDependants: string[] }> {
  const applied: string[] = [];
  const droppedDependants: string[] = [];
  if (migrations.length === 0) return { applied, droppedDependants };
  await tx`CREATE SCHEMA IF NOT EXISTS drizzle`;
  await tx`
    CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (
      id SERIAL PRIMARY KEY,
      hash text NOT NULL,
      created_at bigint
    )`;
  const [last] = await tx<{ created_at: string }[]>`
    SELECT created_at FROM drizzle.__drizzle_migrations ORDER BY created_at DESC LIMIT 1`;
  const lastApplied = last ? Number(last.created_at) : -Infinity;

  for (const migration of migrations.filter((m) => m.createdAt > lastApplied)) {
    logger.debug({ migration: migration.tag }, 'applying migration');
    for (const step of planMigration(migration.statements, catalog)) {
      if (step.kind === 'drop-view') droppedDependants.push(...(await dropDependants(tx, step.view, catalog)));
      try {
        await tx.unsafe(step.text);
      } catch (error) {
        throw new MvfleetError(`migration ${migration.tag} failed: ${(error as Error).message}`, { cause: error });
      }
    }
    await tx`
      INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES (${migration.hash}, ${migration.createdAt})`;
    applied.push(migration.tag);
  }
  return { applied, droppedDependants };
}
