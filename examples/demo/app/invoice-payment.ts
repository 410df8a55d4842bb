import { MvfleetError, type RefreshHandle, type Sql } from 'mvfleet';
import type { DemoProducer } from '../producer.js';

/**
 * Records an invoice payment and tells the fleet, after the commit, so the revenue views
 * (and the quarterly roll-up, by cascade) are refreshed — the event-driven refresh that
 * source document 002 deferred.
 */
export async function payInvoice(
  deps: { sql: Sql; fleet: DemoProducer },
  input: { invoiceId: number; amount: string; paidOn: string },
): Promise<{ firmId: number; projectId: number; refresh: RefreshHandle }> {
  const [paid] = await deps.sql<{ firm_id: number; project_id: number }[]>`
    UPDATE invoices i
    SET status = 'paid', paid_amount = ${input.amount}, paid_on = ${input.paidOn}, paid_at = now()
    FROM projects p
    WHERE i.id = ${input.invoiceId} AND p.id = i.project_id AND i.status IN ('draft', 'sent')
    RETURNING p.firm_id, p.id AS project_id`;
  if (!paid) throw new MvfleetError(`invoice ${input.invoiceId} does not exist or is already paid or void`);
  const refresh = await deps.fleet.invoicePaid({
    firmId: paid.firm_id,
    projectId: paid.project_id,
    invoiceId: input.invoiceId,
    paidOn: input.paidOn,
  });
  return { firmId: paid.firm_id, projectId: paid.project_id, refresh };
}
