import { randomBytes } from 'node:crypto';
import type { Sql } from '../../src/core/db.js';
import { processAlive } from '../../examples/demo/run/process-alive.js';

/**
 * Test databases are named `mvfleet_t<pid>_…` after the vitest process that created them,
 * so a later run can drop what a crashed run left behind without touching a live run's.
 */
const PREFIX = 'mvfleet_t';
export const RUN_PREFIX = `${PREFIX}${process.pid}_`;

export function uniqueDatabaseName(runPrefix: string): string {
  return `${runPrefix}${randomBytes(4).toString('hex')}`;
}

export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}


export async function dropStaleTestDatabases(sql: Sql): Promise<void> {
  const rows = await sql<{ datname: string }[]>`
    SELECT datname FROM pg_database WHERE datname LIKE ${`${PREFIX}%`}`;
  for (const { datname } of rows) {
    const pid = Number(/^mvfleet_t(\d+)_/.exec(datname)?.[1]);
    if (Number.isFinite(pid) && !processAlive(pid)) {
      await sql.unsafe(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  }
}
