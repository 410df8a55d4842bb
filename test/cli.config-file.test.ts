import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/database.js';

/** Every schema and relation of a database outside the system catalogs. */
async function everything(sql: ReturnType<typeof useTestDatabase>['sql']): Promise<string[]> {
  const rows = await sql<{ entry: string }[]>`
    SELECT n.nspname || '.' || coalesce(c.relname, '') AS entry
    FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp%'
      AND n.nspname NOT LIKE 'pg_toast_temp%'
    ORDER BY 1`;
  return rows.map((row) => row.entry);
}

/** The CLI finds its config by name, never falls back to the example's, and lists every problem of a bad one. */
describe('mvfleet config file', () => {
  const db = useTestDatabase({ empty: true });
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mvfleet-config-'));
    // ESM, as an app's package.json would say: a .ts config is then loaded as an ES module.
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('without a config, migrate exits 2 naming every file it looked for, and changes nothing', async () => {
    const before = await everything(db.sql);
    const result = await runCli(['migrate'], { DATABASE_URL: db.url }, { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    for (const name of ['mvfleet.config.ts', 'mvfleet.config.mts', 'mvfleet.config.js', 'mvfleet.config.mjs']) {
      expect(result.stderr).toContain(name);
    }
    expect(result.stderr).toContain(dir);
    expect(await everything(db.sql)).toEqual(before);
  });

  it('every command that needs the catalog refuses to run without one', async () => {
    for (const args of [['worker'], ['status'], ['emit', 'invoice.paid'], ['up']]) {
      const result = await runCli(args, { DATABASE_URL: db.url, REDIS_URL: 'redis://127.0.0.1:9' }, { cwd: dir });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/no mvfleet config found/);
    }
  });

  it('--config and MVFLEET_CONFIG name a file that must exist', async () => {
    const missing = path.join(dir, 'nope.config.ts');
    for (const result of [
      await runCli(['migrate', '--config', missing], { DATABASE_URL: db.url }, { cwd: dir }),
      await runCli(['migrate'], { DATABASE_URL: db.url, MVFLEET_CONFIG: missing }, { cwd: dir }),
    ]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`config file ${missing} does not exist`);
    }
  });

  it('an invalid config lists every problem at once and changes nothing', async () => {
    const file = path.join(dir, 'broken.config.mjs');
    await writeFile(
      file,
      `export default {
        views: [{ view: {} }],
        events: { 'order.placed': { description: 'an order', payload: 'not a schema' } },
        schema: 'Not-A-Schema',
        worker: { concurrency: 0 },
        extra: true,
      };\n`,
    );
    const before = await everything(db.sql);
    const result = await runCli(['migrate', '--config', file], { DATABASE_URL: db.url }, { cwd: dir });
    expect(result.code).toBe(2);
    for (const problem of [
      /events\.order\.placed\.payload: must be a zod schema/,
      /worker\.concurrency: /,
      /extra/,
      /schema must be a lower-case SQL identifier .*Not-A-Schema/,
      /a view must be a Drizzle pgMaterializedView or pgTable/,
    ]) {
      expect(result.stderr).toMatch(problem);
    }
    expect(await everything(db.sql)).toEqual(before);
  });

  it('a config command may not take a built-in name', async () => {
    const file = path.join(dir, 'shadow.config.mjs');
    await writeFile(
      file,
      `export default { views: [], commands: [{ name: 'migrate', summary: 's', usage: 'migrate', run: async () => 0 }] };\n`,
    );
    const result = await runCli(['status', '--config', file], { DATABASE_URL: db.url }, { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/commands: migrate is a built-in command/);
  });
});
