import { insertInChunks } from './chunks.js';
import { ANCHOR_TIMESTAMP, type RowCounts, type SeedContext } from './context.js';
import type { BudgetVolumes } from './scales.js';

/** Versions `id % 8 = 3` are soft-deleted (their live rows must not reach the views). */
const DELETED_VERSION_REMAINDER = 3;
/** Versions `id % 8 = 6` are empty shells: no classes, enrolments, staff or lines. */
const EMPTY_VERSION_REMAINDER = 6;
/** Share of child rows that are soft-deleted. */
const DELETED_ROW_RATE = 0.05;

const LEVELS = ['PS', 'MS', 'GS', 'CP', 'CE1', 'CE2', 'CM1', 'CM2', '6E', '5E', '4E', '3E'];
const SUBJECTS = ['Français', 'Mathématiques', 'Histoire-géographie', 'Anglais', 'Sciences', 'EPS', 'Arts plastiques', 'Musique'];

/**
 * French PCG accounts a school budget uses, with a typical line amount: 64x personnel,
 * other 6x operating, 7x revenue, 2x capital expenditure, and balance-sheet accounts
 * (1x, 4x, 5x) that the views classify as "other".
 */
const ACCOUNTS: readonly [code: string, label: string, typicalAmount: number][] = [
  ['641100', 'Salaires enseignants', 80000],
  ['641300', 'Primes et gratifications', 10000],
  ['645100', 'Cotisations URSSAF', 30000],
  ['647500', 'Médecine du travail', 2000],
  ['606100', 'Eau et énergie', 8000],
  ['606400', 'Fournitures administratives', 2000],
  ['611000', 'Sous-traitance générale', 12000],
  ['613200', 'Locations immobilières', 20000],
  ['615200', 'Entretien des bâtiments', 6000],
  ['616000', "Primes d'assurance", 4000],
  ['622600', 'Honoraires', 5000],
  ['625100', 'Voyages et déplacements', 3000],
  ['626000', 'Frais postaux et télécommunications', 1500],
  ['706100', 'Frais de scolarité', 150000],
  ['706200', "Droits d'inscription", 20000],
  ['708800', 'Cantine et activités', 25000],
  ['740000', "Subventions d'exploitation", 40000],
  ['758000', 'Produits divers de gestion', 3000],
  ['205000', 'Logiciels', 8000],
  ['215400', 'Matériel pédagogique', 10000],
  ['218300', 'Matériel informatique', 15000],
  ['218400', 'Mobilier', 7000],
  ['401000', 'Fournisseurs', 5000],
  ['421000', 'Personnel, rémunérations dues', 5000],
  ['512000', 'Banque', 10000],
  ['101000', 'Capital', 50000],
];

/**
 * Budget versions with classes, enrolments per level, teacher allocations and budget
 * lines. Soft deletes everywhere: a few whole versions and ~5% of every child table.
 */
export async function seedBudget(ctx: SeedContext, volumes: BudgetVolumes): Promise<RowCounts> {
  const { sql, seed } = ctx;
  const count = volumes.versions;

  const versions = await insertInChunks(ctx, 'budget_versions', { parents: count, rowsPerParent: 1 }, ({ first, last }) => sql`
    INSERT INTO budget_versions (id, name, fiscal_year, status, created_at, updated_at, deleted_at)
    SELECT
      v,
      format('FY%s %s v%s', y.fiscal_year, pg_temp.pick(ARRAY['Budget', 'Forecast', 'Revision'], pg_temp.rnd(${seed}, 402, v)), 1 + v % 5),
      y.fiscal_year,
      CASE WHEN y.r < 0.35 THEN 'working' WHEN y.r < 0.55 THEN 'submitted' WHEN y.r < 0.80 THEN 'approved' ELSE 'superseded' END,
      t.created_at,
      t.updated_at,
      CASE WHEN v % 8 = ${DELETED_VERSION_REMAINDER}::int THEN t.updated_at + interval '1 second' * floor(86400 * (1 + 20 * y.r)) END
    FROM generate_series(${first}::int, ${last}::int) AS v
    CROSS JOIN LATERAL (SELECT 2024 + floor(4 * pg_temp.rnd(${seed}, 401, v))::int AS fiscal_year, pg_temp.rnd(${seed}, 403, v) AS r) y
    CROSS JOIN LATERAL (
      SELECT ${ANCHOR_TIMESTAMP}::timestamptz - interval '1 second' * floor(86400 * (30 + 700 * pg_temp.rnd(${seed}, 404, v))) AS created_at
    ) c
    CROSS JOIN LATERAL (
      SELECT c.created_at, c.created_at + interval '1 second' * floor(86400 * 30 * pg_temp.rnd(${seed}, 405, v)) AS updated_at
    ) t
  `);

  const deletedAt = (stream: number) => sql`
    CASE WHEN pg_temp.rnd(${seed}, ${stream}::int, c.id) < ${DELETED_ROW_RATE}::float8
      THEN ${ANCHOR_TIMESTAMP}::timestamptz - interval '1 second' * floor(86400 * 200 * pg_temp.rnd(${seed}, ${stream + 1}::int, c.id))
    END
  `;
  const hasContent = sql`v % 8 <> ${EMPTY_VERSION_REMAINDER}::int`;

  const levels = LEVELS.length;
  const enrollments = await insertInChunks(ctx, 'enrollments', { parents: count, rowsPerParent: levels }, ({ first, last }) => sql`
    INSERT INTO enrollments (id, budget_version_id, level_code, student_count, deleted_at)
    SELECT c.id, v, (${LEVELS}::text[])[k], 40 + floor(36 * pg_temp.rnd(${seed}, 411, c.id))::int, ${deletedAt(412)}
    FROM generate_series(${first}::int, ${last}::int) AS v
    CROSS JOIN generate_series(1, ${levels}::int) AS k
    CROSS JOIN LATERAL (SELECT (v - 1) * ${levels}::int + k AS id) c
    WHERE ${hasContent}
  `);

  const classesPer = volumes.classesPerVersion;
  const classes = await insertInChunks(ctx, 'classes', { parents: count, rowsPerParent: classesPer }, ({ first, last }) => sql`
    INSERT INTO classes (id, budget_version_id, level_code, name, max_students, deleted_at)
    SELECT c.id, v, c.level_code, format('%s-%s', c.level_code, chr(65 + (k - 1) / ${levels}::int)), 20 + floor(13 * pg_temp.rnd(${seed}, 421, c.id))::int, ${deletedAt(422)}
    FROM generate_series(${first}::int, ${last}::int) AS v
    CROSS JOIN generate_series(1, ${classesPer}::int) AS k
    CROSS JOIN LATERAL (SELECT (v - 1) * ${classesPer}::int + k AS id, (${LEVELS}::text[])[1 + (k - 1) % ${levels}::int] AS level_code) c
    WHERE ${hasContent}
  `);

  const staffPer = volumes.teacherAllocationsPerVersion;
  const teacherAllocations = await insertInChunks(ctx, 'teacher_allocations', { parents: count, rowsPerParent: staffPer }, ({ first, last }) => sql`
    INSERT INTO teacher_allocations (id, budget_version_id, subject, fte, hours_per_week, deleted_at)
    SELECT
      c.id,
      v,
      (${SUBJECTS}::text[])[1 + (k - 1) % cardinality(${SUBJECTS}::text[])],
      round((0.5 + 0.5 * pg_temp.rnd(${seed}, 431, c.id))::numeric, 2),
      round((8 + 40 * pg_temp.rnd(${seed}, 432, c.id))::numeric) / 2,
      ${deletedAt(433)}
    FROM generate_series(${first}::int, ${last}::int) AS v
    CROSS JOIN generate_series(1, ${staffPer}::int) AS k
    CROSS JOIN LATERAL (SELECT (v - 1) * ${staffPer}::int + k AS id) c
    WHERE ${hasContent}
  `);

  const linesPer = volumes.linesPerVersion;
  const codes = ACCOUNTS.map(([code]) => code);
  const labels = ACCOUNTS.map(([, label]) => label);
  const amounts = ACCOUNTS.map(([, , amount]) => amount);
  const budgetLines = await insertInChunks(ctx, 'budget_lines', { parents: count, rowsPerParent: linesPer }, ({ first, last }) => sql`
    INSERT INTO budget_lines (id, budget_version_id, account_code, label, amount, deleted_at)
    SELECT
      c.id,
      v,
      (${codes}::text[])[c.j],
      (${labels}::text[])[c.j],
      round(((${amounts}::int[])[c.j] * (0.2 + 1.6 * pg_temp.rnd(${seed}, 442, c.id)))::numeric, 2),
      ${deletedAt(443)}
    FROM generate_series(${first}::int, ${last}::int) AS v
    CROSS JOIN generate_series(1, ${linesPer}::int) AS k
    CROSS JOIN LATERAL (
      SELECT
        (v - 1) * ${linesPer}::int + k AS id,
        1 + floor(${codes.length}::int * pg_temp.rnd(${seed}, 441, (v - 1) * ${linesPer}::int + k))::int AS j
    ) c
    WHERE ${hasContent}
  `);

  return {
    budget_versions: versions,
    enrollments,
    classes,
    teacher_allocations: teacherAllocations,
    budget_lines: budgetLines,
  };
}
