import { sql } from 'drizzle-orm';
import { date, integer, numeric, pgMaterializedView } from 'drizzle-orm/pg-core';

/**
 * Quarterly roll-up per firm, built on `mv_revenue_by_project_month` (an MV on an MV):
 * it must be refreshed after its upstream, and recreated when drizzle-kit drops the upstream.
 */
export const revenueByFirmQuarter = pgMaterializedView('mv_revenue_by_firm_quarter', {
  firmId: integer('firm_id').notNull(),
  quarter: date('quarter').notNull(),
  totalRevenue: numeric('total_revenue', { precision: 16, scale: 2 }).notNull(),
  laborCost: numeric('labor_cost', { precision: 16, scale: 2 }).notNull(),
  expenseCost: numeric('expense_cost', { precision: 16, scale: 2 }).notNull(),
  grossMargin: numeric('gross_margin', { precision: 16, scale: 2 }).notNull(),
  invoicesPaid: integer('invoices_paid').notNull(),
  totalHours: numeric('total_hours', { precision: 14, scale: 2 }).notNull(),
  projectCount: integer('project_count').notNull(),
})
  .withNoData()
  .as(sql`
SELECT
  firm_id,
  date_trunc('quarter', month::timestamp)::date AS quarter,
  sum(total_revenue)::numeric(16, 2) AS total_revenue,
  sum(labor_cost)::numeric(16, 2) AS labor_cost,
  sum(expense_cost)::numeric(16, 2) AS expense_cost,
  sum(gross_margin)::numeric(16, 2) AS gross_margin,
  sum(invoices_paid)::integer AS invoices_paid,
  sum(total_hours)::numeric(14, 2) AS total_hours,
  count(DISTINCT project_id)::integer AS project_count
FROM mv_revenue_by_project_month
GROUP BY firm_id, date_trunc('quarter', month::timestamp)::date
`);
