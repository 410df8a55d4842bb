import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { useChildProcesses } from './helpers/processes.js';
import { startRestartablePostgres, type RestartablePostgres, type StopMode } from './helpers/restartable-postgres.js';
import { waitUntil } from './helpers/wait.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VIEW = 'mv_kpi_dashboard';
const MODES: StopMode[] = ['fast', 'immediate', 'fast', 'immediate', 'immediate', 'fast', 'fast', 'immediate'];

/**
 * PostgreSQL restarts under a running `mvfleet worker`. postgres.js can throw from a timer of
 * its own when a connection closes under a transaction (porsager/postgres#1208), which no
 * caller can catch; the worker's role runs in a supervised child, so the `mvfleet worker`
 * process stays up and refreshing whatever the driver does.
 */
describe('a worker while PostgreSQL restarts under it', () => {
  const processes = useChildProcesses();
  let server: RestartablePostgres;
  let sql: postgres.Sql;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startRestartablePostgres();
    // Plain pool queries only (no transaction): a closed pooled connection reconnects safely.
    sql = postgres(server.url, { max: 1, onnotice: () => {} });
    env = {
      DATABASE_URL: server.url,
      REDIS_URL: inject('redisUrl'),
      MVFLEET_PREFIX: `{restarts-${randomBytes(4).toString('hex')}}`,
      LOG_LEVEL: 'info',
    };
    for (const args of [['migrate'], ['seed', '--scale', 'small']]) {
      const result = await runCli(args, env, { cwd: ROOT, timeoutMs: 120_000 });
      expect(result.code, `mvfleet ${args.join(' ')}: ${result.stderr}`).toBe(0);
    }
  });

  afterAll(async () => {
    await sql?.end({ timeout: 1 });
    await server?.stop();
  });

  /** Whether the worker has a session on the server (after a restart: it reconnected). */
  const workerConnected = async () => {
    try {
      const [row] = await sql<[{ n: number }]>`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'mvfleet-worker'`;
      return row.n > 0;
    } catch {
      return false; // the server is still coming back
    }
  };

  it('the worker process stays alive, and a refresh requested after the last restart succeeds', { timeout: 240_000 }, async () => {
    const worker = processes.cli(['worker'], env, { cwd: ROOT });
    await worker.waitFor('worker started');

    // Refresh requests keep coming from two producers while the server restarts.
    let flowing = true;
    let requests = 0;
    let lastFailure = '';
    const refreshLoop = async () => {
      while (flowing) {
        // While the server is down a request fails; the loop just asks again.
        const result = await runCli(['refresh', '--all'], env, { cwd: ROOT }).catch((error: Error) => ({ code: null, stderr: error.message }));
        if (result.code === 0) requests += 1;
        else lastFailure = result.stderr;
      }
    };
    const loops = [refreshLoop(), refreshLoop()];
    const startedAt = Date.now();
    try {
      for (const [i, mode] of MODES.entries()) {
        // Each restart finds the worker connected again, with requests made since the last one.
        const before = requests;
        await waitUntil(`the worker connected and a refresh requested before restart ${i + 1}`, async () => requests > before && (await workerConnected()), {
          timeoutMs: 60_000,
        }).catch((error: Error) => {
          throw new Error(`${error.message}\nlast failed request: ${lastFailure}\nworker: ${worker.output().slice(-3_000)}`);
        });
        await server.restart(mode);
        expect(worker.child.exitCode, worker.output().slice(-2_000)).toBeNull();
      }
    } finally {
      flowing = false;
      await Promise.all(loops);
    }
    const roleRestarts = worker.output().split('restarting the role').length - 1;
    const restartsMs = Date.now() - startedAt;

    const [{ requestedAt }] = await sql<[{ requestedAt: Date }]>`SELECT now() AS "requestedAt"`;
    // Up to a minute: a role that died holding jobs leaves them locked until BullMQ finds them stalled.
    const refresh = await runCli(['refresh', VIEW, '--wait', '--timeout', '90'], env, { cwd: ROOT, timeoutMs: 100_000 });
    expect(refresh.code, refresh.stderr).toBe(0);
    console.log(
      `${MODES.length} PostgreSQL restarts in ${(restartsMs / 1000).toFixed(1)} s: the worker role was restarted ${roleRestarts} times ` +
        `inside the same mvfleet worker process; a refresh requested after the last one finished in ${((Date.now() - startedAt - restartsMs) / 1000).toFixed(1)} s`,
    );
    const rows = await sql<{ status: string }[]>`
      SELECT status FROM mvfleet.mv_refresh_log
      WHERE view_name = ${VIEW} AND started_at > ${requestedAt} AND status = 'success'`;
    expect(rows.length).toBeGreaterThan(0);

    // The PID the test started is the one still serving; a normal stop still exits 0.
    expect(worker.child.exitCode).toBeNull();
    expect(() => process.kill(worker.child.pid!, 0)).not.toThrow();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(worker.output()).toContain('worker stopped');
  });
});
