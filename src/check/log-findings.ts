import type { Catalog } from '../catalog/catalog.js';
import type { Sql } from '../core/db.js';
import { oneLine } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { checkCatalog } from './check-config.js';

/**
 * Runs {@link checkCatalog} when a long-running role starts and logs each finding as a
 * warning. Never throws: a role that could start anyway must not be stopped by its check.
 */
export async function logCheckFindings(options: { sql: Sql; catalog: Catalog; logger: Logger }): Promise<void> {
  const { logger } = options;
  try {
    for (const finding of await checkCatalog(options)) {
      logger.warn({ view: finding.view, check: finding.level }, finding.message);
    }
  } catch (error) {
    logger.warn({ err: error }, `mvfleet check could not run: ${oneLine(error)}`);
  }
}
