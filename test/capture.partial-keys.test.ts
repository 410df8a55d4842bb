import { sql } from 'drizzle-orm';
import { date, integer, numeric, pgTable, text } from 'drizzle-orm/pg-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCatalog } from '../src/catalog/catalog.js';
import type { KeyScope } from '../src/catalog/key-scope.js';
import { migrate } from '../src/migrate/migrate.js';
import { isDirty } from '../src/store/dirty-keys.js';
import { populateViews } from '../src/workers/populate-views.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { verifyView } from '../src/workers/verify-view.js';
import { useTestDatabase } from './helpers/database.js';

const VIEW = 't_project_month_hours';

const projectMonthHours = (keys: KeyScope) => sql`
  SELECT h.project_id, date_trunc('month', h.day::timestamp)::date AS month, p.name AS project_name,
         sum(h.hours)::numeric(10, 2) AS hours
  FROM t_hours h JOIN t_projects p ON p.id = h.project_id
  WHERE ${keys.match('project_id', sql`h.project_id`)}
    AND ${keys.match('month', sql`date_trunc('month', h.day::timestamp)::date`)}
  GROUP BY 1, 2, 3`;

/**
 * Hours per project and month, a table kept by targeted refreshes, on a catalog of its own:
 * a write to `t_hours` names its project and month; a write to `t_projects` names a project
 * only, so its capture maps part of the scope key.
 */
const catalog = createCatalog({
  events: {},
  views: [
    {
      view: pgTable(VIEW, {
        projectId: integer('project_id').notNull(),
        month: date('month').notNull(),
        projectName: text('project_name').notNull(),
        hours: numeric('hours', { precision: 10, scale: 2 }).notNull(),
      }),
      description: 'Hours per project and month.',
      uniqueKey: ['project_id', 'month'],
      sources: ['t_hours', 't_projects'],
      schedule: null,
      capture: {
        t_hours: { key: { project_id: 'project_id', month: { sql: "date_trunc('month', day::timestamp)::date" } } },
        t_projects: { key: { project_id: 'id' }, columns: ['name'] },
      },
      // A small table: recompute keys however many there are, so every refresh here is targeted.
      keyed: { scopeKey: ['project_id', 'month'], query: projectMonthHours, eventKeys: {}, fullRebuildShare: 1 },
    },
  ],
});

describe('a capture that maps part of a composite key', () => {
  const db = useTestDatabase({ empty: true });
  const executor = () => createRefreshExecutor({ sql: db.sql, catalog });
  const dirtyKeys = async () =>
    (await db.sql<{ key: unknown }[]>`SELECT key FROM mvfleet.mv_dirty_keys WHERE view_name = ${VIEW} ORDER BY id`).map((row) => row.key);
  const stored = async (projectId: number) =>
    db.sql<{ month: string; project_name: string; hours: string }[]>`
      SELECT month::text, project_name, hours::text FROM t_project_month_hours WHERE project_id = ${projectId} ORDER BY month`;

  beforeAll(async () => {
    await db.sql.unsafe(`
      CREATE TABLE t_projects (id integer PRIMARY KEY, name text NOT NULL, budget integer NOT NULL DEFAULT 0);
      CREATE TABLE t_hours (id serial PRIMARY KEY, project_id integer NOT NULL REFERENCES t_projects, day date NOT NULL, hours numeric(6, 2) NOT NULL);
      CREATE TABLE t_project_month_hours (
        project_id integer NOT NULL, month date NOT NULL, project_name text NOT NULL, hours numeric(10, 2) NOT NULL);
      INSERT INTO t_projects (id, name) SELECT g, 'project ' || g FROM generate_series(1, 3) AS g;
      INSERT INTO t_hours (project_id, day, hours)
        SELECT p, DATE '2026-01-10' + (m * 31), 2 FROM generate_series(1, 3) AS p, generate_series(0, 2) AS m;`);
    await migrate({ sql: db.sql, catalog });
    await populateViews({ sql: db.sql, catalog, triggerDetail: 'test' });
    await db.sql`TRUNCATE mvfleet.mv_dirty_keys, mvfleet.mv_pending_requests`;
  });

  it('records a partial key, serves the keys it matches as dirty, and recomputes only the rows matching it', async () => {
    // A row of another project, changed behind the engine's back: a targeted refresh of
    // project 1 must leave it alone (a whole-view refresh would correct it).
    await db.sql`UPDATE t_project_month_hours SET hours = -1 WHERE project_id = 2 AND month = '2026-02-01'`;
    await db.sql`UPDATE t_projects SET budget = 10 WHERE id = 1`; // not a watched column: nothing recorded
    expect(await dirtyKeys()).toEqual([]);
    await db.sql`UPDATE t_projects SET name = 'renamed' WHERE id = 1`;
    expect(await dirtyKeys()).toEqual([[1, null]]);
    expect(await isDirty(db.sql, catalog.store, VIEW, [1, '2026-03-01'])).toBe(true);
    expect(await isDirty(db.sql, catalog.store, VIEW, [2, '2026-03-01'])).toBe(false);

    const outcome = await executor().refresh({ view: VIEW, reason: 'event', scope: 'keys' });
    expect(outcome).toMatchObject({ status: 'success', strategy: 'targeted', keysRefreshed: 1 });
    expect((await stored(1)).map((row) => row.project_name)).toEqual(['renamed', 'renamed', 'renamed']);
    expect((await stored(2)).find((row) => row.month === '2026-02-01')?.hours).toBe('-1.00');
    expect(await dirtyKeys()).toEqual([]);
  });

  it('recomputes full and partial keys drained together, a full key a partial one covers only once', async () => {
    await db.sql.begin(async (tx) => {
      await tx`INSERT INTO t_hours (project_id, day, hours) VALUES (1, '2026-04-02', 5), (3, '2026-01-20', 1)`;
      await tx`UPDATE t_projects SET name = 'renamed again' WHERE id = 1`;
    });
    expect(new Set((await dirtyKeys()).map((key) => JSON.stringify(key)))).toEqual(new Set(['[1,"2026-04-01"]', '[3,"2026-01-01"]', '[1,null]']));
    const outcome = await executor().refresh({ view: VIEW, reason: 'event', scope: 'keys' });
    expect(outcome).toMatchObject({ status: 'success', strategy: 'targeted', keysRefreshed: 3 });
    expect(await stored(1)).toEqual([
      { month: '2026-01-01', project_name: 'renamed again', hours: '2.00' },
      { month: '2026-02-01', project_name: 'renamed again', hours: '2.00' },
      { month: '2026-03-01', project_name: 'renamed again', hours: '2.00' },
      { month: '2026-04-01', project_name: 'renamed again', hours: '5.00' },
    ]);
    expect((await stored(3))[0]).toEqual({ month: '2026-01-01', project_name: 'project 3', hours: '3.00' });
  });

  it('a partial key whose rows are all gone deletes them; verify counts the row it left alone, and a full rebuild corrects it', async () => {
    await db.sql.begin(async (tx) => {
      await tx`DELETE FROM t_hours WHERE project_id = 3`;
      await tx`DELETE FROM t_projects WHERE id = 3`;
    });
    await executor().refresh({ view: VIEW, reason: 'event', scope: 'keys' });
    expect(await stored(3)).toEqual([]);
    const before = await verifyView(db.sql, catalog.store, catalog.get(VIEW));
    expect(before).toMatchObject({ differences: 1, pending: 0 });
    const rebuilt = await executor().refresh({ view: VIEW, reason: 'manual' });
    expect(rebuilt).toMatchObject({ status: 'success', strategy: 'full', rowsCorrected: 1 });
    expect(await verifyView(db.sql, catalog.store, catalog.get(VIEW))).toMatchObject({ differences: 0 });
  });
});
