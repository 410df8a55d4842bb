import { sql } from 'drizzle-orm';
import { date, integer, numeric, pgTable, text } from 'drizzle-orm/pg-core';
import type { KeyScope } from 'mvfleet';

/**
 * Revenue, cost and margin per project and month (source document 002).
 *
 * The source joined invoices, time entries and expenses in one GROUP BY: a month with
 * 3 paid invoices and 40 time entries counted every invoice 40 times. Here each child
 * table is aggregated per (project, month) on its own, the keys are the union of the
 * three, and the aggregates are joined 1:1 onto them.
 * Revenue is recognised in the month of `paid_on`; only approved time and expenses count.
 *
 * The aggregates are `NOT MATERIALIZED`: each is referenced twice, and PostgreSQL would
 * otherwise compute a multiply-referenced CTE in full before filtering it. Inlined, a
 * reader's live query (`... WHERE project_id = $1 AND month = $2` around this SELECT)
 * has the key pushed into each GROUP BY and reads one project's rows through the
 * `(project_id, date)` indexes (about 1 ms instead of 2 s at medium scale); a full
 * refresh costs the same.
 *
 * A keyed view (project, month), stored as a table that targeted refreshes maintain; the name
 * keeps its `mv_` prefix so readers and the quarterly roll-up are unchanged.
 */
export const revenueByProjectMonthColumns = () => ({
  firmId: integer('firm_id').notNull(),
  projectId: integer('project_id').notNull(),
  projectName: text('project_name').notNull(),
  projectCode: text('project_code').notNull(),
  clientId: integer('client_id'),
  month: date('month').notNull(),
  totalRevenue: numeric('total_revenue', { precision: 14, scale: 2 }).notNull(),
  invoicesPaid: integer('invoices_paid').notNull(),
  laborCost: numeric('labor_cost', { precision: 14, scale: 2 }).notNull(),
  expenseCost: numeric('expense_cost', { precision: 14, scale: 2 }).notNull(),
  grossMargin: numeric('gross_margin', { precision: 14, scale: 2 }).notNull(),
  teamMembers: integer('team_members').notNull(),
  totalHours: numeric('total_hours', { precision: 12, scale: 2 }).notNull(),
  billableHours: numeric('billable_hours', { precision: 12, scale: 2 }).notNull(),
});

/**
 * The one definition, whole or restricted to a set of (project, month) keys: each child
 * aggregate then reads only those projects' rows through its `(project_id, date)` index.
 */
export const revenueByProjectMonthQuery = (keys: KeyScope) => sql`
WITH revenue AS NOT MATERIALIZED (
  SELECT project_id, date_trunc('month', paid_on::timestamp)::date AS month,
         sum(paid_amount) AS total_revenue, count(*) AS invoices_paid
  FROM invoices
  WHERE status = 'paid' AND paid_on IS NOT NULL
    AND ${keys.match('project_id', sql`project_id`)}
    AND ${keys.match('month', sql`date_trunc('month', paid_on::timestamp)::date`)}
  GROUP BY 1, 2
), labor AS NOT MATERIALIZED (
  SELECT project_id, date_trunc('month', entry_date::timestamp)::date AS month,
         sum(hours * hourly_rate) AS labor_cost,
         count(DISTINCT user_id) AS team_members,
         sum(hours) AS total_hours,
         COALESCE(sum(hours) FILTER (WHERE is_billable), 0) AS billable_hours
  FROM time_entries
  WHERE status = 'approved'
    AND ${keys.match('project_id', sql`project_id`)}
    AND ${keys.match('month', sql`date_trunc('month', entry_date::timestamp)::date`)}
  GROUP BY 1, 2
), expense AS NOT MATERIALIZED (
  SELECT project_id, date_trunc('month', incurred_on::timestamp)::date AS month,
         sum(amount) AS expense_cost
  FROM expenses
  WHERE status = 'approved'
    AND ${keys.match('project_id', sql`project_id`)}
    AND ${keys.match('month', sql`date_trunc('month', incurred_on::timestamp)::date`)}
  GROUP BY 1, 2
), project_months AS (
  SELECT project_id, month FROM revenue
  UNION SELECT project_id, month FROM labor
  UNION SELECT project_id, month FROM expense
)
SELECT
  p.firm_id,
  p.id AS project_id,
  p.name AS project_name,
  p.project_code,
  p.client_id,
  k.month,
  COALESCE(r.total_revenue, 0)::numeric(14, 2) AS total_revenue,
  COALESCE(r.invoices_paid, 0)::integer AS invoices_paid,
  COALESCE(l.labor_cost, 0)::numeric(14, 2) AS labor_cost,
  COALESCE(e.expense_cost, 0)::numeric(14, 2) AS expense_cost,
  (COALESCE(r.total_revenue, 0) - COALESCE(l.labor_cost, 0) - COALESCE(e.expense_cost, 0))::numeric(14, 2) AS gross_margin,
  COALESCE(l.team_members, 0)::integer AS team_members,
  COALESCE(l.total_hours, 0)::numeric(12, 2) AS total_hours,
  COALESCE(l.billable_hours, 0)::numeric(12, 2) AS billable_hours
FROM project_months k
JOIN projects p ON p.id = k.project_id
LEFT JOIN revenue r ON r.project_id = k.project_id AND r.month = k.month
LEFT JOIN labor l ON l.project_id = k.project_id AND l.month = k.month
LEFT JOIN expense e ON e.project_id = k.project_id AND e.month = k.month
`;

export const revenueByProjectMonth = pgTable('mv_revenue_by_project_month', revenueByProjectMonthColumns());
