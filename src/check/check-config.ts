import type { Catalog } from '../catalog/catalog.js';
import type { Sql } from '../core/db.js';
import type { CheckFinding } from './check-finding.js';
import { checkCapture } from './capture-check.js';
import { checkEngineSchema } from './engine-schema-check.js';
import { checkRefreshPrivileges } from './refresh-privileges.js';
import { checkEventKeyFields } from './event-key-fields.js';
import { checkRefreshCoverage } from './refresh-coverage.js';
import { checkScopeKeyPlan } from './scope-key-plan.js';
import { checkViewObjects, readRelationKinds } from './view-objects.js';

export type { CheckFinding } from './check-finding.js';

/** What {@link checkCatalog} compares. */
export interface CheckCatalogOptions {
  /** The database the fleet runs on. Only read: the check changes nothing. */
  sql: Sql;
  /** The loaded config's catalog. */
  catalog: Catalog;
}

/**
 * Compares a catalog with the database and reports what would otherwise show up in
 * production: errors for what makes refreshes fail or block readers (mvfleet's tables not
 * migrated, a view missing or stored differently, an index or a source table missing) and
 * warnings for what leaves views stale or slow (sources no schedule or event covers, events
 * that cannot name a keyed view's keys, targeted refreshes that scan large sources).
 * Findings come in catalog order, database-wide ones first.
 */
export async function checkCatalog(options: CheckCatalogOptions): Promise<CheckFinding[]> {
  const { sql, catalog } = options;
  const findings = await checkEngineSchema(sql, catalog.store);
  const relationKinds = await readRelationKinds(sql, [...new Set(catalog.views.flatMap((view) => [view.name, ...view.sources]))]);
  const capture = await checkCapture(sql, catalog);
  const privileges = await checkRefreshPrivileges(sql, catalog);
  findings.push(...privileges.filter((finding) => finding.view === undefined));
  for (const view of catalog.views) {
    const objects = await checkViewObjects(sql, catalog, view, relationKinds);
    findings.push(...objects.findings, ...checkRefreshCoverage(view), ...checkEventKeyFields(catalog, view));
    findings.push(...capture.filter((finding) => finding.view === view.name));
    findings.push(...privileges.filter((finding) => finding.view === view.name));
    if (objects.ready) findings.push(...(await checkScopeKeyPlan(sql, view)));
  }
  return findings;
}
