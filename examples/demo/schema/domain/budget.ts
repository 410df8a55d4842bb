import { sql } from 'drizzle-orm';
import { check, index, integer, numeric, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, deletedAt, id, updatedAt } from './columns.js';

/**
 * School budget planning (source document 004). Every table is soft-delete aware:
 * rows with `deleted_at` set are excluded from the views.
 */
export const budgetVersions = pgTable(
  'budget_versions',
  {
    id: id(),
    name: text('name').notNull(),
    fiscalYear: integer('fiscal_year').notNull(),
    status: text('status', { enum: ['working', 'submitted', 'approved', 'superseded'] }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  (t) => [
    index('budget_versions_fiscal_year_status_idx').on(t.fiscalYear, t.status),
    check('budget_versions_status_check', sql`${t.status} in ('working', 'submitted', 'approved', 'superseded')`),
  ],
);

export const classes = pgTable(
  'classes',
  {
    id: id(),
    budgetVersionId: integer('budget_version_id')
      .notNull()
      .references(() => budgetVersions.id, { onDelete: 'cascade' }),
    levelCode: text('level_code').notNull(),
    name: text('name').notNull(),
    maxStudents: integer('max_students').notNull(),
    deletedAt: deletedAt(),
  },
  (t) => [index('classes_budget_version_idx').on(t.budgetVersionId)],
);

export const enrollments = pgTable(
  'enrollments',
  {
    id: id(),
    budgetVersionId: integer('budget_version_id')
      .notNull()
      .references(() => budgetVersions.id, { onDelete: 'cascade' }),
    levelCode: text('level_code').notNull(),
    studentCount: integer('student_count').notNull(),
    deletedAt: deletedAt(),
  },
  (t) => [index('enrollments_budget_version_idx').on(t.budgetVersionId)],
);

export const teacherAllocations = pgTable(
  'teacher_allocations',
  {
    id: id(),
    budgetVersionId: integer('budget_version_id')
      .notNull()
      .references(() => budgetVersions.id, { onDelete: 'cascade' }),
    subject: text('subject').notNull(),
    fte: numeric('fte', { precision: 5, scale: 2 }).notNull(),
    hoursPerWeek: numeric('hours_per_week', { precision: 6, scale: 2 }).notNull(),
    deletedAt: deletedAt(),
  },
  (t) => [index('teacher_allocations_budget_version_idx').on(t.budgetVersionId)],
);

/** Budget lines by French PCG account code; the category is derived from the code (see views). */
export const budgetLines = pgTable(
  'budget_lines',
  {
    id: id(),
    budgetVersionId: integer('budget_version_id')
      .notNull()
      .references(() => budgetVersions.id, { onDelete: 'cascade' }),
    accountCode: text('account_code').notNull(),
    label: text('label').notNull(),
    amount: numeric('amount', { precision: 14, scale: 2 }).notNull(),
    deletedAt: deletedAt(),
  },
  (t) => [index('budget_lines_budget_version_account_idx').on(t.budgetVersionId, t.accountCode)],
);
