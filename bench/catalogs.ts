import { createCatalog, type Catalog } from '../src/catalog/catalog.js';
import { demoViewDefinitions } from '../examples/demo/schema/catalog.js';
import { demoEvents } from '../examples/demo/schema/events.js';

/**
 * The example's catalog without change capture: the workload most scenarios measure, where
 * changes reach the fleet through events only (a capture trigger would record every source
 * write a second time). The `capture` scenario installs the triggers for its own run.
 */
export const eventsOnlyCatalog: Catalog = createCatalog({
  events: demoEvents,
  views: demoViewDefinitions.map((definition) => ({ ...definition, capture: undefined })),
});
