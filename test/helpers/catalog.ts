import { fileURLToPath } from 'node:url';
import { createCatalog, viewNameOf, type Catalog, type ViewDefinition } from '../../src/catalog/catalog.js';
import { demoViewDefinitions } from '../../examples/demo/schema/catalog.js';
import { demoEvents } from '../../examples/demo/schema/events.js';

/** Per-view policy overrides for tests (short timeouts and backoffs instead of minutes). */
export type ViewOverrides = Record<string, Partial<Omit<ViewDefinition, 'view'>>>;

/** The demo catalog with some views' policies replaced. */
export function demoCatalogWith(overrides: ViewOverrides): Catalog {
  const views = demoViewDefinitions.map((definition) => {
    const name = viewNameOf(definition);
    return { ...definition, ...(overrides[name] ?? {}) };
  });
  return createCatalog({ events: demoEvents, views });
}

/** The example's drizzle-kit migrations folder. */
export const demoMigrationsFolder = fileURLToPath(new URL('../../examples/demo/drizzle', import.meta.url));
