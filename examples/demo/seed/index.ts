import { MvfleetError, type Queryable, type Sql, UsageError } from 'mvfleet';
import { seedAhsp } from './ahsp.js';
import { seedBudget } from './budget.js';
import type { RowCounts, SeedContext } from './context.js';
import { DOMAIN_TABLES, type DomainTable } from './domain-tables.js';
import { seedFinance } from './finance.js';
import { createHashRandom, dropHashRandom } from './hash-random.js';
import type { SeedProgress } from './progress.js';
import { isScaleName, SCALE_NAMES, SCALES, type ScaleName } from './scales.js';
import { seedTournaments } from './tournaments.js';

export { createProgressReporter, type ProgressReporterOptions, type SeedProgress } from './progress.js';
export { DOMAIN_TABLES, type DomainTable } from './domain-tables.js';
export { SCALE_NAMES, SCALES, type Scale, type ScaleName } from './scales.js';

/** Options for {@link seedDemo}. */
export interface SeedOptions {
  /** Client of a migrated database (tables and views exist). */
  sql: Sql;
  /**
   * Volume preset: `small` (tests, under a second), `medium` (~3.3 M rows), `large` (~15 M rows).
   * A string so that command-line input can be passed as is; anything else is a {@link UsageError}.
   * @defaultValue 'small'
   */
  scale?: ScaleName | (string & {});
  /**
   * Seed of the pseudo-random values: the same seed always writes byte-identical rows.
   * An integer from 0 to 2147483647.
   * @defaultValue 42
   */
  seed?: number;
  /**
   * Truncate the demo tables first when they hold rows; without it such a database is refused.
   * @defaultValue false
   */
  replace?: boolean;
  /**
   * Called after each chunk of rows (and after truncate, sequences and analyze).
   * @defaultValue no reporting
   */
  onProgress?: (progress: SeedProgress) => void;
}

/** What {@link seedDemo} wrote. */
export interface SeedResult {
  /** Rows written per demo table. */
  rows: Record<DomainTable, number>;
  /** Wall time of the whole seed, truncate and analyze included, in milliseconds. */
  durationMs: number;
}

const seedDefaults = { scale: 'small', seed: 42, replace: false } satisfies Partial<SeedOptions>;

const MAX_SEED = 2_147_483_647;

/**
 * Fills the demo domain's tables with deterministic data generated inside PostgreSQL,
 * in one transaction: either every table is seeded or nothing changes. The materialized
 * views are left as they are; refresh them afterwards (e.g. through the refresh engine).
 *
 * @throws UsageError on a bad option, or when the tables hold rows and `replace` is false.
 * @throws MvfleetError when the database is not migrated.
 */
export async function seedDemo(options: SeedOptions): Promise<SeedResult> {
  const { sql, onProgress } = options;
  // `??` rather than a spread: an option passed as `undefined` (an absent CLI flag) still gets its default.
  const scaleName = options.scale ?? seedDefaults.scale;
  const seed = options.seed ?? seedDefaults.seed;
  const replace = options.replace ?? seedDefaults.replace;
  if (!isScaleName(scaleName)) {
    throw new UsageError(`scale must be one of ${SCALE_NAMES.join(', ')} (got ${JSON.stringify(scaleName)})`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new UsageError(`seed must be an integer from 0 to ${MAX_SEED} (got ${seed})`);
  }
  const scale = SCALES[scaleName];
  const report = (step: string, done: number, total: number) => onProgress?.({ step, done, total });
  const started = performance.now();

  const written = await sql.begin(async (tx) => {
    // A bulk load that every view is rebuilt from: the capture triggers need not record it
    // key by key. Only a superuser may switch triggers off; for other roles they record it.
    await tx`SELECT set_config('session_replication_role', 'replica', true) FROM pg_roles WHERE rolname = current_user AND rolsuper`;
    await clearDemoTables(tx, replace);
    report('truncate', 1, 1);
    await createHashRandom(tx);
    const ctx: SeedContext = { sql: tx, seed, report };
    const counts: RowCounts = {
      ...(await seedTournaments(ctx, scale.tournaments)),
      ...(await seedAhsp(ctx, scale.ahsp)),
      ...(await seedFinance(ctx, scale.finance)),
      ...(await seedBudget(ctx, scale.budget)),
    };
    await dropHashRandom(tx);
    await resetIdentities(tx);
    report('sequences', 1, 1);
    // Fresh statistics, or the first refreshes plan their joins for empty tables.
    await tx`ANALYZE ${tx(DOMAIN_TABLES)}`;
    report('analyze', 1, 1);
    return counts;
  });

  const rows = Object.fromEntries(DOMAIN_TABLES.map((table) => [table, written[table] ?? 0])) as Record<DomainTable, number>;
  return { rows, durationMs: Math.round(performance.now() - started) };
}

/** Refuses a database that already holds demo rows, unless asked to truncate them. */
async function clearDemoTables(tx: Queryable, replace: boolean): Promise<void> {
  const missing = await tx<{ name: string }[]>`
    SELECT name FROM unnest(${[...DOMAIN_TABLES]}::text[]) AS name WHERE to_regclass(name) IS NULL
  `;
  if (missing.length > 0) {
    const what = missing.length === DOMAIN_TABLES.length ? 'no demo tables' : `no table ${missing.map((row) => row.name).join(', ')}`;
    throw new MvfleetError(`database is not migrated (${what}); run mvfleet migrate first`);
  }
  const nonEmpty: DomainTable[] = [];
  for (const table of DOMAIN_TABLES) {
    const [row] = await tx<{ present: boolean }[]>`SELECT EXISTS (SELECT FROM ${tx(table)}) AS present`;
    if (row?.present) nonEmpty.push(table);
  }
  if (nonEmpty.length === 0) return;
  if (!replace) {
    const [row] = await tx<{ count: string }[]>`SELECT count(*) AS count FROM tournaments`;
    const tournaments = Number(row?.count ?? 0);
    const held = tournaments > 0 ? `${tournaments} tournaments` : `rows in ${nonEmpty.join(', ')}`;
    throw new UsageError(`database already holds demo data (${held}); pass --replace to truncate and reseed`);
  }
  await tx`TRUNCATE ${tx(DOMAIN_TABLES)} RESTART IDENTITY`;
}

/** Moves each identity sequence past the explicit ids the seeder wrote, so later inserts do not collide. */
async function resetIdentities(tx: Queryable): Promise<void> {
  for (const table of DOMAIN_TABLES) {
    await tx`
      SELECT setval(pg_get_serial_sequence(${table}, 'id'), COALESCE(max(id), 1), max(id) IS NOT NULL)
      FROM ${tx(table)}
    `;
  }
}
