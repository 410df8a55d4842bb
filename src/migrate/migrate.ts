import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Catalog } from '../catalog/catalog.js';
import type { Queryable, Sql } from '../core/db.js';
import { MvfleetError } from '../core/errors.js';
import { quoteIdent } from '../core/identifiers.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { ensureViews, type EnsureViewsResult } from './ensure-views.js';
import { planMigration } from './migration-plan.js';
import { findDependentViews } from './view-dependencies.js';

/** The repository's drizzle-kit output folder. */
export const defaultMigrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url));

/** Options for {@link migrate}. */
export interface MigrateOptions {
  sql: Sql;
  catalog: Catalog;
  /**
   * Folder written by `drizzle-kit generate`.
   * @defaultValue the repository's `drizzle/`
   */
  migrationsFolder?: string;
  /** @defaultValue a silent logger */
  logger?: Logger;
}

export interface MigrateResult extends EnsureViewsResult {
  /** Tags of the migrations applied by this run. */
  applied: string[];
  /** Catalog views dropped because a view they read was dropped; recreated afterwards. */
  droppedDependants: string[];
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
 * Applies pending drizzle-kit migrations and then guarantees every catalog view exists
 * with its indexes, all in one transaction under an advisory lock (several processes may
 * run `migrate` at once during a deploy). A second run changes nothing.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const { sql, catalog } = options;
  const folder = options.migrationsFolder ?? defaultMigrationsFolder;
  const logger = options.logger ?? silentLogger();
  const migrations = await readMigrations(folder);

  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext('mvfleet:migrate'))`;
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

    const applied: string[] = [];
    const droppedDependants: string[] = [];
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

    const ensured = await ensureViews(tx, catalog);
    for (const view of ensured.createdViews) logger.debug({ view }, 'created materialized view (unpopulated)');
    for (const index of [...ensured.createdIndexes, ...ensured.replacedIndexes]) logger.debug({ index }, 'created index');
    return { applied, droppedDependants, ...ensured };
  });
}
