import { sql } from 'drizzle-orm';
import { integer, numeric, pgMaterializedView, text } from 'drizzle-orm/pg-core';
import { accountCategorySql } from './account-category.js';

/** Budget totals per live version and account code (source document 004), soft deletes excluded. */
export const budgetConsolidation = pgMaterializedView('mv_budget_consolidation', {
  budgetVersionId: integer('budget_version_id').notNull(),
  accountCode: text('account_code').notNull(),
  fiscalYear: integer('fiscal_year').notNull(),
  status: text('status').notNull(),
  consolidationCategory: text('consolidation_category').notNull(),
  totalAmount: numeric('total_amount', { precision: 16, scale: 2 }).notNull(),
  lineCount: integer('line_count').notNull(),
})
  .withNoData()
  .as(sql`
SELECT
  v.id AS budget_version_id,
  l.account_code,
  v.fiscal_year,
  v.status,
  ${sql.raw(accountCategorySql('l.account_code'))} AS consolidation_category,
  l.total_amount::numeric(16, 2) AS total_amount,
  l.line_count::integer AS line_count
FROM budget_versions v
JOIN (
  SELECT budget_version_id, account_code, sum(amount) AS total_amount, count(*) AS line_count
  FROM budget_lines
  WHERE deleted_at IS NULL
  GROUP BY budget_version_id, account_code
) l ON l.budget_version_id = v.id
WHERE v.deleted_at IS NULL
`);
