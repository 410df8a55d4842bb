import type { Catalog } from '../catalog/catalog.js';
import type { Sql } from '../core/db.js';
import { createRefreshExecutor, type RefreshOutcome } from './refresh-executor.js';

/**
 * Refreshes every catalog view once, upstream views first, through the executor (fenced
 * and logged like any refresh). Used after loading data, before any worker runs.
 */
export async function populateViews(options: {
  sql: Sql;
  catalog: Catalog;
  triggerDetail: string;
  onView?: (outcome: RefreshOutcome) => void;
}): Promise<RefreshOutcome[]> {
  const executor = createRefreshExecutor({ sql: options.sql, catalog: options.catalog, workerId: options.triggerDetail });
  const outcomes: RefreshOutcome[] = [];
  for (const view of options.catalog.views) {
    const outcome = await executor.refresh({ view: view.name, reason: 'manual', triggerDetail: options.triggerDetail });
    options.onView?.(outcome);
    outcomes.push(outcome);
  }
  return outcomes;
}

/** One line describing a populate outcome, for command output. */
export function describeOutcome(outcome: RefreshOutcome): string {
  return outcome.status === 'success'
    ? `${outcome.view} populated (${outcome.rowsAfter.toLocaleString('en-US')} rows, ${outcome.mode}, ${outcome.durationMs} ms)`
    : `${outcome.view} ${outcome.status}`;
}
