import { sql } from 'drizzle-orm';
import { integer, numeric, pgMaterializedView, text } from 'drizzle-orm/pg-core';
import { accountCategorySql } from './account-category.js';

/**
 * One row of KPIs per live budget version (source document 004): enrolment, class
 * structure, teaching workforce and the budget totals. Soft-deleted versions and rows
 * are excluded; each child table is aggregated per version before the join.
 */
export const kpiDashboard = pgMaterializedView('mv_kpi_dashboard', {
  budgetVersionId: integer('budget_version_id').notNull(),
  versionName: text('version_name').notNull(),
  fiscalYear: integer('fiscal_year').notNull(),
  status: text('status').notNull(),
  totalStudents: integer('total_students').notNull(),
  classCount: integer('class_count').notNull(),
  totalCapacity: integer('total_capacity').notNull(),
  avgClassSize: numeric('avg_class_size', { precision: 8, scale: 2 }).notNull(),
  fillRate: numeric('fill_rate', { precision: 7, scale: 4 }).notNull(),
  teacherFte: numeric('teacher_fte', { precision: 10, scale: 2 }).notNull(),
  teachingHoursPerWeek: numeric('teaching_hours_per_week', { precision: 10, scale: 2 }).notNull(),
  heRatio: numeric('h_e_ratio', { precision: 10, scale: 4 }).notNull(),
  studentsPerTeacherFte: numeric('students_per_teacher_fte', { precision: 10, scale: 2 }).notNull(),
  totalRevenue: numeric('total_revenue', { precision: 16, scale: 2 }).notNull(),
  personnelCosts: numeric('personnel_costs', { precision: 16, scale: 2 }).notNull(),
  operatingCosts: numeric('operating_costs', { precision: 16, scale: 2 }).notNull(),
  capex: numeric('capex', { precision: 16, scale: 2 }).notNull(),
  operatingMargin: numeric('operating_margin', { precision: 16, scale: 2 }).notNull(),
  revenuePerStudent: numeric('revenue_per_student', { precision: 14, scale: 2 }).notNull(),
  personnelCostPerStudent: numeric('personnel_cost_per_student', { precision: 14, scale: 2 }).notNull(),
  budgetLineCount: integer('budget_line_count').notNull(),
})
  .withNoData()
  .as(sql`
SELECT
  v.id AS budget_version_id,
  v.name AS version_name,
  v.fiscal_year,
  v.status,
  COALESCE(e.total_students, 0)::integer AS total_students,
  COALESCE(c.class_count, 0)::integer AS class_count,
  COALESCE(c.total_capacity, 0)::integer AS total_capacity,
  COALESCE(round(e.total_students::numeric / NULLIF(c.class_count, 0), 2), 0)::numeric(8, 2) AS avg_class_size,
  COALESCE(round(e.total_students::numeric / NULLIF(c.total_capacity, 0), 4), 0)::numeric(7, 4) AS fill_rate,
  COALESCE(t.teacher_fte, 0)::numeric(10, 2) AS teacher_fte,
  COALESCE(t.teaching_hours, 0)::numeric(10, 2) AS teaching_hours_per_week,
  COALESCE(round(t.teaching_hours / NULLIF(e.total_students, 0), 4), 0)::numeric(10, 4) AS h_e_ratio,
  COALESCE(round(e.total_students / NULLIF(t.teacher_fte, 0), 2), 0)::numeric(10, 2) AS students_per_teacher_fte,
  COALESCE(b.revenue, 0)::numeric(16, 2) AS total_revenue,
  COALESCE(b.personnel, 0)::numeric(16, 2) AS personnel_costs,
  COALESCE(b.operating, 0)::numeric(16, 2) AS operating_costs,
  COALESCE(b.capex, 0)::numeric(16, 2) AS capex,
  (COALESCE(b.revenue, 0) - COALESCE(b.personnel, 0) - COALESCE(b.operating, 0))::numeric(16, 2) AS operating_margin,
  COALESCE(round(b.revenue / NULLIF(e.total_students, 0), 2), 0)::numeric(14, 2) AS revenue_per_student,
  COALESCE(round(b.personnel / NULLIF(e.total_students, 0), 2), 0)::numeric(14, 2) AS personnel_cost_per_student,
  COALESCE(b.line_count, 0)::integer AS budget_line_count
FROM budget_versions v
LEFT JOIN (
  SELECT budget_version_id, sum(student_count) AS total_students
  FROM enrollments WHERE deleted_at IS NULL GROUP BY budget_version_id
) e ON e.budget_version_id = v.id
LEFT JOIN (
  SELECT budget_version_id, count(*) AS class_count, sum(max_students) AS total_capacity
  FROM classes WHERE deleted_at IS NULL GROUP BY budget_version_id
) c ON c.budget_version_id = v.id
LEFT JOIN (
  SELECT budget_version_id, sum(fte) AS teacher_fte, sum(hours_per_week) AS teaching_hours
  FROM teacher_allocations WHERE deleted_at IS NULL GROUP BY budget_version_id
) t ON t.budget_version_id = v.id
LEFT JOIN (
  SELECT
    budget_version_id,
    sum(amount) FILTER (WHERE category = 'revenue') AS revenue,
    sum(amount) FILTER (WHERE category = 'personnel') AS personnel,
    sum(amount) FILTER (WHERE category = 'operating') AS operating,
    sum(amount) FILTER (WHERE category = 'capex') AS capex,
    count(*) AS line_count
  FROM (
    SELECT budget_version_id, amount, ${sql.raw(accountCategorySql('account_code'))} AS category
    FROM budget_lines WHERE deleted_at IS NULL
  ) l
  GROUP BY budget_version_id
) b ON b.budget_version_id = v.id
WHERE v.deleted_at IS NULL
`);
