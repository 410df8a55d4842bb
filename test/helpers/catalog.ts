import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

/**
 * The demo catalog without change capture. The template database most test files start from
 * is migrated with it: no triggers, so a test can make changes no event announces (drift)
 * by writing to the sources. Tests of capture migrate their own.
 */
export function demoCatalogWithoutCapture(): Catalog {
  return createCatalog({ events: demoEvents, views: demoViewDefinitions.map((definition) => ({ ...definition, capture: undefined })) });
}

/** The example's drizzle-kit migrations folder. */
export const demoMigrationsFolder = fileURLToPath(new URL('../../examples/demo/drizzle', import.meta.url));

/**
 * The example's migrations up to and including `lastTag`, in a temporary folder of their own
 * (the caller removes it): a database as an earlier version of the example left it.
 */
export async function demoMigrationsThrough(lastTag: string): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), 'mvfleet-migrations-'));
  await cp(demoMigrationsFolder, folder, { recursive: true });
  const journalPath = path.join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: { tag: string }[] };
  const last = journal.entries.findIndex((entry) => entry.tag === lastTag);
  if (last < 0) throw new Error(`the example has no migration ${lastTag}`);
  journal.entries = journal.entries.slice(0, last + 1);
  await writeFile(journalPath, JSON.stringify(journal));
  return folder;
}
