/**
 * The demo domain's tables, parents before children. The seeder truncates, counts and
 * analyzes exactly these: never `mv_refresh_log` nor drizzle's bookkeeping.
 */
export const DOMAIN_TABLES = [
  'tournaments',
  'registrations',
  'matches',
  'prize_transactions',
  'ahsp_referensi',
  'rincian_referensi',
  'firms',
  'clients',
  'users',
  'projects',
  'invoices',
  'time_entries',
  'expenses',
  'budget_versions',
  'classes',
  'enrollments',
  'teacher_allocations',
  'budget_lines',
] as const;

/** A table of the demo domain. */
export type DomainTable = (typeof DOMAIN_TABLES)[number];
