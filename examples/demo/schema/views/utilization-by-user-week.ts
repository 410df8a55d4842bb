import { sql } from 'drizzle-orm';
import { date, integer, numeric, pgMaterializedView } from 'drizzle-orm/pg-core';

/** Approved hours per person and ISO week (weeks start on Monday), per firm (source document 002). */
export const utilizationByUserWeek = pgMaterializedView('mv_utilization_by_user_week', {
  firmId: integer('firm_id').notNull(),
  userId: integer('user_id').notNull(),
  weekStart: date('week_start').notNull(),
  totalHours: numeric('total_hours', { precision: 10, scale: 2 }).notNull(),
  billableHours: numeric('billable_hours', { precision: 10, scale: 2 }).notNull(),
  utilizationRate: numeric('utilization_rate', { precision: 7, scale: 4 }).notNull(),
  projectsWorked: integer('projects_worked').notNull(),
  daysWorked: integer('days_worked').notNull(),
  totalCost: numeric('total_cost', { precision: 14, scale: 2 }).notNull(),
})
  .withNoData()
  .as(sql`
SELECT
  p.firm_id,
  te.user_id,
  date_trunc('week', te.entry_date::timestamp)::date AS week_start,
  sum(te.hours)::numeric(10, 2) AS total_hours,
  COALESCE(sum(te.hours) FILTER (WHERE te.is_billable), 0)::numeric(10, 2) AS billable_hours,
  COALESCE(round(sum(te.hours) FILTER (WHERE te.is_billable) / NULLIF(sum(te.hours), 0), 4), 0)::numeric(7, 4) AS utilization_rate,
  count(DISTINCT te.project_id)::integer AS projects_worked,
  count(DISTINCT te.entry_date)::integer AS days_worked,
  sum(te.hours * te.hourly_rate)::numeric(14, 2) AS total_cost
FROM time_entries te
JOIN projects p ON p.id = te.project_id
WHERE te.status = 'approved'
GROUP BY p.firm_id, te.user_id, date_trunc('week', te.entry_date::timestamp)::date
`);
