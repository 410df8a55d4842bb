import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { freePort } from '../examples/demo/run/free-port.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { useTestDatabase } from './helpers/database.js';
import { useChildProcesses } from './helpers/processes.js';
import { startRedisServer, type RedisServerProcess } from './helpers/redis-server-process.js';

const run = promisify(execFile);

const VIEW = 'mv_kpi_dashboard';
const USER = 'mvfleet';
const PASSWORD = 'secret-pw';
const WRONG_PASSWORD = 'not-the-pw-7d1e';

/**
 * What the README promises for a Redis behind TLS with an ACL user, on a redis-server of this
 * file's own (TLS port only, the default user off) whose certificate a throwaway CA signed:
 * the CLI trusts that CA through Node's standard `NODE_EXTRA_CA_CERTS`, logs in with the user
 * and password of `rediss://user:password@host:port`, and refreshes. A wrong password or a
 * plain `redis://` URL against the TLS port is refused quickly, in one line naming the
 * address, without the password.
 */
describe('Redis over TLS with an ACL user, configured by the URL', () => {
  const db = useTestDatabase();
  const processes = useChildProcesses();
  let dir: string;
  let server: RedisServerProcess;
  let caFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mvfleet-redis-tls-'));
    caFile = join(dir, 'ca.pem');
    const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
    await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=mvfleet test CA');
    await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    // Clients check the address they dialled against the subjectAltName, not the CN.
    await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
    await openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'server.ext');

    server = await startRedisServer(
      await freePort(),
      [
        '--tls-cert-file', join(dir, 'server.pem'),
        '--tls-key-file', join(dir, 'server.key'),
        '--tls-ca-cert-file', caFile,
        '--tls-auth-clients', 'no',
        // No anonymous access: only the ACL user, with a password, may run commands.
        '--user', 'default', 'off',
        '--user', USER, 'on', `>${PASSWORD}`, '~*', '&*', '+@all',
      ],
      { tls: true },
    );
  }, 60_000);

  afterAll(async () => {
    await server?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const env = (redisUrl: string): Record<string, string> => ({
    DATABASE_URL: db.url,
    MVFLEET_QUEUE_BACKEND: 'redis',
    REDIS_URL: redisUrl,
    MVFLEET_PREFIX: '{mvfleet-tls}',
    NODE_EXTRA_CA_CERTS: caFile,
    LOG_LEVEL: 'info',
  });
  const tlsUrl = (password = PASSWORD) => `rediss://${USER}:${password}@127.0.0.1:${server.port}`;
  const address = () => `127.0.0.1:${server.port}`;

  /** Runs `mvfleet <args>`, with how long it took. */
  const timed = async (args: string[], childEnv: Record<string, string>): Promise<CliResult & { ms: number }> => {
    const started = Date.now();
    const result = await runCli(args, childEnv, { timeoutMs: 60_000 });
    return { ...result, ms: Date.now() - started };
  };

  it('a worker, `mvfleet refresh --wait` and `mvfleet emit` work with rediss://user:password@host:port', async () => {
    const worker = processes.cli(['worker', '--concurrency', '1'], env(tlsUrl()));
    onTestFailed(() => console.log(worker.output()));
    await worker.waitFor('"worker started"', 60_000);
    expect(worker.output()).toContain(`Redis at ${address()}`);

    const [{ requestedAt }] = await db.sql<[{ requestedAt: Date }]>`SELECT now() AS "requestedAt"`;
    const refresh = await timed(['refresh', VIEW, '--wait', '--timeout', '60'], env(tlsUrl()));
    expect(refresh.code, refresh.stderr).toBe(0);
    const rows = await db.sql<{ status: string }[]>`
      SELECT status FROM mvfleet.mv_refresh_log
      WHERE view_name = ${VIEW} AND started_at >= ${requestedAt} AND status = 'success'`;
    expect(rows.length).toBeGreaterThan(0);

    const emitted = await timed(['emit', 'import.finished', '--data', '{"sumber":"tls"}'], env(tlsUrl()));
    expect(emitted.stderr).toBe('');
    expect(emitted.code).toBe(0);

    expect(worker.output()).not.toContain(PASSWORD);
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
  }, 180_000);

  it('a wrong password is refused quickly, in one line naming the address and the failed login, without the password', async () => {
    // In parallel: each CLI start costs seconds on a loaded machine.
    const [refresh, worker] = await Promise.all([
      timed(['refresh', VIEW, '--wait', '--timeout', '60'], env(tlsUrl(WRONG_PASSWORD))),
      timed(['worker'], env(tlsUrl(WRONG_PASSWORD))),
    ]);
    for (const [name, result] of Object.entries({ refresh, worker })) {
      expect(result.code, `${name}: ${result.stderr}`).not.toBe(0);
      expect(result.code, `${name}: ${result.stderr}`).not.toBeNull();
      expect(result.ms, name).toBeLessThan(15_000);
      const lines = result.stderr.trim().split('\n');
      expect(lines, `${name}: one line`).toHaveLength(1);
      expect(lines[0], name).toContain(`Redis at ${address()}`);
      // Redis's own answer to a failed AUTH, passed through.
      expect(lines[0], name).toMatch(/WRONGPASS invalid username-password pair/);
      expect(result.stdout + result.stderr, name).not.toContain(WRONG_PASSWORD);
      expect(result.stdout + result.stderr, name).not.toMatch(/worker started/);
    }
  }, 120_000);

  it('a plain redis:// URL against the TLS port fails in one line, within a bounded time, without retrying forever', async () => {
    const plainUrl = `redis://${USER}:${PASSWORD}@127.0.0.1:${server.port}`;
    const [refresh, worker] = await Promise.all([
      timed(['refresh', VIEW, '--wait', '--timeout', '60'], env(plainUrl)),
      timed(['worker'], env(plainUrl)),
    ]);
    for (const [name, result] of Object.entries({ refresh, worker })) {
      expect(result.code, `${name}: ${result.stderr}`).not.toBe(0);
      expect(result.code, `${name}: ${result.stderr}`).not.toBeNull();
      expect(result.ms, name).toBeLessThan(20_000);
      const lines = result.stderr.trim().split('\n');
      expect(lines, `${name}: one line`).toHaveLength(1);
      expect(lines[0], name).toContain(`Redis at ${address()}`);
      // The TLS port resets a plain connection: a bare ECONNRESET would not say why.
      expect(lines[0], name).toMatch(/ECONNRESET \(the server reset the connection: if this port serves TLS, use rediss:\/\/\)/);
      expect(result.stdout + result.stderr, name).not.toContain(PASSWORD);
      expect(result.stdout + result.stderr, name).not.toMatch(/worker started/);
    }
  }, 120_000);
});
