import type { Catalog } from '../catalog/catalog.js';

/** One step of applying a drizzle-kit migration. */
export type MigrationStep =
  | { kind: 'sql'; text: string }
  /** Dependants of the view must be dropped first (drizzle-kit does not know about them). */
  | { kind: 'drop-view'; view: string; text: string }
  | { kind: 'create-view'; view: string; text: string };

const VIEW_STATEMENT = /^(CREATE|DROP)\s+MATERIALIZED\s+VIEW\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(?:"[^"]+"\.)?"([^"]+)"/i;

/**
 * Orders a drizzle-kit migration's statements so it can run on its own:
 * drizzle-kit emits materialized views alphabetically, so a view built on another view
 * may come before it. View creations are moved after every other statement and sorted
 * by the catalog's dependency order (views the catalog does not know keep their order, last).
 * View drops come first: switching a view's storage to a table drops the MV and creates a
 * table of the same name, and drizzle-kit emits the CREATE TABLE first.
 */
export function planMigration(statements: readonly string[], catalog: Catalog): MigrationStep[] {
  const drops: MigrationStep[] = [];
  const steps: MigrationStep[] = [];
  const creates: Extract<MigrationStep, { kind: 'create-view' }>[] = [];
  for (const raw of statements) {
    const text = raw.trim();
    if (text === '') continue;
    const match = VIEW_STATEMENT.exec(text);
    if (!match) steps.push({ kind: 'sql', text });
    else if (match[1]!.toUpperCase() === 'DROP') drops.push({ kind: 'drop-view', view: match[2]!, text });
    else creates.push({ kind: 'create-view', view: match[2]!, text });
  }
  const rank = new Map(catalog.views.map((view, index) => [view.name, index]));
  const order = (view: string) => rank.get(view) ?? Number.MAX_SAFE_INTEGER;
  // Array.prototype.sort is stable, so unknown views keep their relative order.
  creates.sort((a, b) => order(a.view) - order(b.view));
  return [...drops, ...steps, ...creates];
}
