import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../core/catalog.js';
import { migrate } from '../db/migrate.js';
import { demoCatalog } from '../schema/catalog.js';
import { useTestDatabase } from './helpers/database.js';
import { indexesOf, relationSnapshot } from './helpers/schema-snapshot.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
// Inside the repository so the scratch copy resolves node_modules like the real schema.
const scratch = path.join(root, 'test', '.scratch', `redefine-${process.pid}`);

/**
 * drizzle-kit drops and recreates an MV whose definition changed, which loses its indexes
 * and fails outright when another MV reads it. This test changes the revenue view's
 * definition in a scratch copy of the schema, regenerates with drizzle-kit and migrates.
 */
describe('migrating a redefined materialized view', () => {
  const db = useTestDatabase();
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  it('keeps its unique and declared indexes and recreates the view built on it', async () => {
    await mkdir(scratch, { recursive: true });
    for (const entry of ['schema', 'core', 'drizzle', 'drizzle.config.ts']) {
      await cp(path.join(root, entry), path.join(scratch, entry), { recursive: true });
    }
    const viewFile = path.join(scratch, 'schema', 'views', 'revenue-by-project-month.ts');
    const original = await readFile(viewFile, 'utf8');
    const changed = original.replace(
      "WHERE status = 'paid' AND paid_on IS NOT NULL",
      "WHERE status = 'paid' AND paid_on IS NOT NULL AND paid_amount > 0",
    );
    expect(changed).not.toBe(original);
    await writeFile(viewFile, changed);

    await run('npx', ['drizzle-kit', 'generate', '--name', 'redefine_revenue'], { cwd: scratch });
    const journal = JSON.parse(await readFile(path.join(scratch, 'drizzle', 'meta', '_journal.json'), 'utf8'));
    const tag: string = journal.entries.at(-1).tag;
    const generated = await readFile(path.join(scratch, 'drizzle', `${tag}.sql`), 'utf8');
    // The premise: drizzle-kit really drops the view (and knows nothing of its indexes or dependants).
    expect(generated).toContain('DROP MATERIALIZED VIEW "public"."mv_revenue_by_project_month"');
    expect(generated).not.toContain('mv_revenue_by_firm_quarter');

    const { demoCatalog: scratchCatalog } = (await import(pathToFileURL(path.join(scratch, 'schema', 'catalog.ts')).href)) as {
      demoCatalog: Catalog;
    };
    const result = await migrate({ sql: db.sql, catalog: scratchCatalog, migrationsFolder: path.join(scratch, 'drizzle') });
    expect(result.applied).toEqual([tag]);
    expect(result.droppedDependants).toEqual(['mv_revenue_by_firm_quarter']);
    expect(result.createdViews).toEqual(['mv_revenue_by_firm_quarter']);

    const [definition] = await db.sql<[{ def: string }]>`SELECT pg_get_viewdef('mv_revenue_by_project_month'::regclass) AS def`;
    expect(definition.def).toContain('paid_amount > ');
    for (const name of ['mv_revenue_by_project_month', 'mv_revenue_by_firm_quarter']) {
      const expected = demoCatalog
        .get(name)
        .indexes.map((spec) => `${spec.name}(${spec.columns.join(', ')})${spec.unique ? ' unique' : ''}`)
        .sort();
      expect(await indexesOf(db.sql, name), name).toEqual(expected);
    }

    const before = await relationSnapshot(db.sql);
    const again = await migrate({ sql: db.sql, catalog: scratchCatalog, migrationsFolder: path.join(scratch, 'drizzle') });
    expect(again).toEqual({ applied: [], droppedDependants: [], createdViews: [], createdIndexes: [], replacedIndexes: [] });
    expect(await relationSnapshot(db.sql)).toEqual(before);
  });
});
