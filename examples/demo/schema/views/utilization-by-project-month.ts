import { sql } from 'drizzle-orm';
import { date, integer, numeric, pgMaterializedView, text } from 'drizzle-orm/pg-core';

/** Approved hours per project and month (source document 002). */
export const utilizationByProjectMonth = pgMaterializedView('mv_utilization_by_project_month', {
  firmId: integer('firm_id').notNull(),
  projectId: integer('project_id').notNull(),
  projectName: text('project_name').notNull(),
  clientId: integer('client_id'),
  month: date('month').notNull(),
  totalHours: numeric('total_hours', { precision: 12, scale: 2 }).notNull(),
  billableHours: numeric('billable_hours', { precision: 12, scale: 2 }).notNull(),
  utilizationRate: numeric('utilization_rate', { precision: 7, scale: 4 }).notNull(),
  teamMembers: integer('team_members').notNull(),
  daysWorked: integer('days_worked').notNull(),
  tasksWorked: integer('tasks_worked').notNull(),
})
  .withNoData()
  .as(sql`
SELECT
  p.firm_id,
  p.id AS project_id,
  p.name AS project_name,
  p.client_id,
  te.month,
  te.total_hours::numeric(12, 2) AS total_hours,
  te.billable_hours::numeric(12, 2) AS billable_hours,
  COALESCE(round(te.billable_hours / NULLIF(te.total_hours, 0), 4), 0)::numeric(7, 4) AS utilization_rate,
  te.team_members::integer AS team_members,
  te.days_worked::integer AS days_worked,
  te.tasks_worked::integer AS tasks_worked
FROM (
  SELECT
    project_id,
    date_trunc('month', entry_date::timestamp)::date AS month,
    sum(hours) AS total_hours,
    COALESCE(sum(hours) FILTER (WHERE is_billable), 0) AS billable_hours,
    count(DISTINCT user_id) AS team_members,
    count(DISTINCT entry_date) AS days_worked,
    count(DISTINCT task_id) AS tasks_worked
  FROM time_entries
  WHERE status = 'approved'
  GROUP BY 1, 2
) te
JOIN projects p ON p.id = te.project_id
`);
