import { afterAll, beforeAll, inject } from 'vitest';
import { createDb, type DbHandle, type Sql } from '../../src/core/db.js';
import { databaseUrl, uniqueDatabaseName } from './database-names.js';

export interface TestDatabase {
  /** URL of this file's own database. */
  readonly url: string;
  readonly name: string;
  readonly sql: Sql;
  readonly handle: DbHandle;
}

/**
 * Gives the calling test file its own database, cloned from the migrated template
 * (tables and unpopulated views) or, with `empty`, a blank one; dropped after the file.
 * Call at describe level.
 */
export function useTestDatabase(options: { max?: number; empty?: boolean } = {}): TestDatabase {
  const serverUrl = inject('postgresUrl');
  const template = inject('templateDatabase');
  const runPrefix = template.replace(/template$/, '');
  const name = uniqueDatabaseName(runPrefix);
  const url = databaseUrl(serverUrl, name);
  let handle: DbHandle | undefined;
  const admin = createDb({ url: serverUrl, max: 1 });

  beforeAll(async () => {
    const source = options.empty ? 'template0' : template;
    await admin.sql.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${source}"`);
    handle = createDb({ url, max: options.max ?? 8, applicationName: 'mvfleet-test' });
  });

  afterAll(async () => {
    await handle?.close();
    await admin.sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.close();
  });

  const ready = () => {
    if (!handle) throw new Error('useTestDatabase(): the database is created in beforeAll; use it inside tests');
    return handle;
  };
  return {
    url,
    name,
    get sql() {
      return ready().sql;
    },
    get handle() {
      return ready();
    },
  };
}
