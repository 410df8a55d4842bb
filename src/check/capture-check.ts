import type { Catalog } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { captureInstalls, captureProblems, installedCapture } from '../capture/install-capture.js';
import type { CheckFinding } from './check-finding.js';

/**
 * Capture declarations that do not fit the database (a missing table or column, a key of
 * another type), and capture triggers `migrate` has not installed or installed from another
 * declaration: both leave writes unrecorded until `mvfleet migrate` runs.
 */
export async function checkCapture(sql: Queryable, catalog: Catalog): Promise<CheckFinding[]> {
  const problems = await captureProblems(sql, catalog);
  const findings: CheckFinding[] = problems.map((problem) => ({ level: 'error', view: problem.view, message: problem.message }));
  const broken = new Set(problems.map((problem) => problem.view));
  const { triggers, functions } = await installedCapture(sql, catalog);
  for (const install of captureInstalls(catalog)) {
    if (broken.has(install.view)) continue;
    const missing = Object.values(install.triggers).filter((trigger) => !triggers.some((found) => found.trigger === trigger && found.table === install.table));
    const fingerprint = functions.find((fn) => fn.name === install.functionShortName)?.fingerprint;
    if (missing.length > 0 || fingerprint === undefined) {
      findings.push({ level: 'error', view: install.view, message: `capture triggers on ${install.table} are not installed: run \`mvfleet migrate\`` });
    } else if (fingerprint !== install.fingerprint) {
      findings.push({ level: 'error', view: install.view, message: `capture triggers on ${install.table} record another declaration: run \`mvfleet migrate\`` });
    }
  }
  return findings;
}
