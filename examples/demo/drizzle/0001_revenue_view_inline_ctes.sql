DROP MATERIALIZED VIEW "public"."mv_revenue_by_project_month";--> statement-breakpoint
CREATE MATERIALIZED VIEW "public"."mv_revenue_by_project_month" AS (
WITH revenue AS NOT MATERIALIZED (
  SELECT project_id, date_trunc('month', paid_on::timestamp)::date AS month,
         sum(paid_amount) AS total_revenue, count(*) AS invoices_paid
  FROM invoices
  WHERE status = 'paid' AND paid_on IS NOT NULL
  GROUP BY 1, 2
), labor AS NOT MATERIALIZED (
  SELECT project_id, date_trunc('month', entry_date::timestamp)::date AS month,
         sum(hours * hourly_rate) AS labor_cost,
         count(DISTINCT user_id) AS team_members,
         sum(hours) AS total_hours,
         COALESCE(sum(hours) FILTER (WHERE is_billable), 0) AS billable_hours
  FROM time_entries
  WHERE status = 'approved'
  GROUP BY 1, 2
), expense AS NOT MATERIALIZED (
  SELECT project_id, date_trunc('month', incurred_on::timestamp)::date AS month,
         sum(amount) AS expense_cost
  FROM expenses
  WHERE status = 'approved'
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
) WITH NO DATA;