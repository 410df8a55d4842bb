import { demoCatalog } from '../../examples/demo/schema/catalog.js';
import demoConfig from '../../examples/demo/mvfleet.config.js';
import { migrate } from '../../src/migrate/migrate.js';
import { quoteQualified } from '../../src/store/engine-schema.js';
import { figureSet, type Scenario } from '../context.js';
import { LAG_NOTE } from '../storm-log.js';
import { addStormFigures, runStorm } from '../storm.js';

/**
 * The event storm with capture instead of events: the same writes, paced the same way,
 * against two `mvfleet worker` processes, but no `emit`: the example's capture triggers
 * record the keys in each write's transaction and the workers' poll wakes the fleet. Reports
 * the storm's figures (refreshes, events per refresh, lag from commit to covering refresh).
 */
export const captureStormScenario: Scenario = async (context) => {
  const out = figureSet();
  const { sql } = context.db;
  const engineTables = `${quoteQualified(context.catalog.store.dirtyKeys)}, ${quoteQualified(context.catalog.store.pendingRequests)}`;
  await migrate({ sql, catalog: demoCatalog, migrationsFolder: demoConfig.migrations });
  await sql.unsafe(`TRUNCATE ${engineTables}`);
  try {
    const run = await runStorm(context, {
      label: 'capture-storm',
      count: context.workload.stormEvents,
      seconds: context.workload.stormSeconds,
      capture: demoCatalog,
    });
    addStormFigures(out, run);
  } finally {
    // The other scenarios measure events alone: the triggers go again.
    await migrate({ sql, catalog: context.catalog, migrationsFolder: demoConfig.migrations });
    await sql.unsafe(`TRUNCATE ${engineTables}`);
  }
  out.note(LAG_NOTE);
  out.note(
    'capture-storm: the event storm\'s writes with the example\'s capture triggers installed and no emit; only views that capture the written table ' +
      '(the tournament view from matches, the revenue view from invoices) are expected to refresh. Workers poll for recorded requests every 250 ms.',
  );
  return out;
};
