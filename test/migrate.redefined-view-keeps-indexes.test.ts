import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { date, integer, numeric, pgMaterializedView } from 'drizzle-orm/pg-core';
import { createCatalog, type Catalog, type ViewDefinition } from '../src/catalog/catalog.js';
import { migrate } from '../src/migrate/migrate.js';
import { demoViewDefinitions } from '../examples/demo/schema/catalog.js';
import { demoEvents } from '../examples/demo/schema/events.js';
import { useTestDatabase } from './helpers/database.js';
import { indexesOf, relationSnapshot } from './helpers/schema-snapshot.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
// Inside the repository so the scratch copy resolves node_modules like the real schema.
const scratch = path.join(root, 'test', '.scratch', `redefine-${process.pid}`);

const REDEFINED = 'mv_utilization_by_project_month';
const DEPENDANT = 'mv_utilization_by_firm_month';

/** A catalog MV built on the redefined one (the demo's own MV-on-MV reads a table-stored view). */
const utilizationByFirmMonth: ViewDefinition = {
  view: pgMaterializedView(DEPENDANT, {
    firmId: integer('firm_id').notNull(),
    month: date('month').notNull(),
    totalHours: numeric('total_hours', { precision: 14, scale: 2 }).notNull(),
  })
    .withNoData()
    .as(sql`
SELECT firm_id, month, sum(total_hours)::numeric(14, 2) AS total_hours
FROM mv_utilization_by_project_month
GROUP BY firm_id, month
`),
  description: 'Approved hours per firm and month, rolled up from the monthly project view.',
  uniqueKey: ['firm_id', 'month'],
  sources: [REDEFINED],
  upstream: [REDEFINED],
  schedule: null,
};

const indexSpecs = (catalog: Catalog, name: string) =>
  catalog
    .get(name)
    .indexes.map((spec) => `${spec.name}(${spec.columns.join(', ')})${spec.unique ? ' unique' : ''}`)
    .sort();

/**
 * drizzle-kit drops and recreates an MV whose definition changed, which loses its indexes
 * and fails outright when another MV reads it. This test changes the project utilization
 * view's definition in a scratch copy of the schema, regenerates with drizzle-kit and
 * migrates a database where a catalog MV is built on that view.
 */
describe('migrating a redefined materialized view', () => {
  const db = useTestDatabase();
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  it('keeps its unique and declared indexes and recreates the view built on it', async () => {
    const before = createCatalog({ events: demoEvents, views: [...demoViewDefinitions, utilizationByFirmMonth] });
    const setup = await migrate({ sql: db.sql, catalog: before });
    expect(setup.applied).toEqual([]);
    expect(setup.createdViews).toEqual([DEPENDANT]);

    await mkdir(scratch, { recursive: true });
    // The example's schema, migrations and drizzle-kit config, at the same place relative to the scratch root.
    const example = path.join('examples', 'demo');
    for (const entry of ['schema', 'drizzle', 'drizzle.config.ts']) {
      await cp(path.join(root, example, entry), path.join(scratch, example, entry), { recursive: true });
    }
    const viewFile = path.join(scratch, example, 'schema', 'views', 'utilization-by-project-month.ts');
    const original = await readFile(viewFile, 'utf8');
    const changed = original.replace("WHERE status = 'approved'\n", "WHERE status = 'approved' AND hours > 0\n");
    expect(changed).not.toBe(original);
    await writeFile(viewFile, changed);

    await run('npx', ['drizzle-kit', 'generate', '--config', path.join(example, 'drizzle.config.ts'), '--name', 'redefine_utilization'], {
      cwd: scratch,
    });
    const journal = JSON.parse(await readFile(path.join(scratch, example, 'drizzle', 'meta', '_journal.json'), 'utf8'));
    const tag: string = journal.entries.at(-1).tag;
    const generated = await readFile(path.join(scratch, example, 'drizzle', `${tag}.sql`), 'utf8');
    // The premise: drizzle-kit really drops the view (and knows nothing of its indexes or dependants).
    expect(generated).toContain(`DROP MATERIALIZED VIEW "public"."${REDEFINED}"`);
    expect(generated).not.toContain(DEPENDANT);

    const scratchSchema = (await import(pathToFileURL(path.join(scratch, example, 'schema', 'catalog.ts')).href)) as {
      demoViewDefinitions: readonly ViewDefinition[];
    };
    const after = createCatalog({ events: demoEvents, views: [...scratchSchema.demoViewDefinitions, utilizationByFirmMonth] });
    const migrationsFolder = path.join(scratch, example, 'drizzle');
    const result = await migrate({ sql: db.sql, catalog: after, migrationsFolder });
    expect(result.applied).toEqual([tag]);
    expect(result.droppedDependants).toEqual([DEPENDANT]);
    expect(result.createdViews).toEqual([DEPENDANT]);

    const [definition] = await db.sql<[{ def: string }]>`SELECT pg_get_viewdef(${REDEFINED}::regclass) AS def`;
    expect(definition.def).toContain('hours > ');
    for (const name of [REDEFINED, DEPENDANT]) {
      expect(await indexesOf(db.sql, name), name).toEqual(indexSpecs(after, name));
    }

    const snapshot = await relationSnapshot(db.sql);
    const again = await migrate({ sql: db.sql, catalog: after, migrationsFolder });
    expect(again).toEqual({ engineApplied: [], applied: [], droppedDependants: [], createdViews: [], createdIndexes: [], replacedIndexes: [], capture: { installed: [], removed: [] } });
    expect(await relationSnapshot(db.sql)).toEqual(snapshot);
  });
});
