/**
 * Measures how a `mvfleet worker` process fares when PostgreSQL restarts under it.
 *
 *   npx tsx bench/postgres-restarts.ts [restarts=25] [redisUrl=redis://127.0.0.1:6379]
 *
 * Starts a PostgreSQL of its own (embedded binaries, free port), migrates and seeds it,
 * runs one worker with refresh requests flowing (`mvfleet refresh --all` in two loops) and
 * restarts the server with `pg_ctl -m fast` / `-m immediate` in turn, each time once the
 * worker has finished a refresh since the previous restart. A worker that dies is counted
 * and started again; a supervised role that dies and is restarted inside the worker process
 * is counted from its log line. Prints the tally and exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { minimalChildEnv } from '../src/config/env.js';
import { CLI, runCli } from '../test/helpers/cli.js';
import { startRestartablePostgres } from '../test/helpers/restartable-postgres.js';
import { waitUntil } from '../test/helpers/wait.js';

const restarts = Number(process.argv[2] ?? 25);
const redisUrl = process.argv[3] ?? 'redis://127.0.0.1:6379';
const repoRoot = new URL('..', import.meta.url).pathname;

const server = await startRestartablePostgres();
const env = { DATABASE_URL: server.url, REDIS_URL: redisUrl, MVFLEET_PREFIX: `restarts-${randomUUID().slice(0, 8)}`, LOG_LEVEL: 'info' };
const sql = postgres(server.url, { max: 1, onnotice: () => {} });

let workerDeaths = 0;
let roleRestarts = 0;
const deathCauses: string[] = [];
let output = '';
let stopping = false;
let worker: ChildProcess;

function startWorker() {
  worker = spawn(process.execPath, [CLI, 'worker'], { env: { ...minimalChildEnv(), ...env }, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    tail = (tail + text).slice(-2_000);
    roleRestarts += text.split('restarting the role').length - 1;
  };
  worker.stdout!.on('data', onData);
  worker.stderr!.on('data', onData);
  worker.once('exit', (code, signal) => {
    if (stopping) return;
    workerDeaths += 1;
    const cause = tail.split('\n').find((line) => /TypeError|Error:/.test(line)) ?? `exit ${code ?? signal}`;
    deathCauses.push(cause.trim().slice(0, 160));
    startWorker();
  });
}

async function refreshLoop() {
  while (!stopping) await runCli(['refresh', '--all'], env, { cwd: repoRoot }).catch(() => {});
}

const successCount = async () => {
  try {
    return (await sql<[{ n: number }]>`SELECT count(*)::int AS n FROM mvfleet.mv_refresh_log WHERE status = 'success'`)[0].n;
  } catch {
    return -1;
  }
};

try {
  for (const args of [['migrate'], ['seed', '--scale', 'small']]) {
    const result = await runCli(args, env, { cwd: repoRoot, timeoutMs: 120_000 });
    if (result.code !== 0) throw new Error(`mvfleet ${args.join(' ')} failed:\n${result.stderr}`);
  }
  startWorker();
  const loops = [refreshLoop(), refreshLoop()];
  for (let i = 1; i <= restarts; i++) {
    const before = await successCount();
    await waitUntil(`a refresh after restart ${i - 1}`, async () => (await successCount()) > before, { timeoutMs: 120_000 });
    const mode = i % 2 === 0 ? 'immediate' : 'fast';
    await server.restart(mode);
    process.stdout.write(`restart ${i}/${restarts} (${mode}): worker deaths ${workerDeaths}, role restarts ${roleRestarts}\n`);
  }
  const before = await successCount();
  await waitUntil('a refresh after the last restart', async () => (await successCount()) > before, { timeoutMs: 120_000 });
  stopping = true;
  await Promise.all(loops);
  process.stdout.write(
    `\n${restarts} restarts: the worker process died ${workerDeaths} times; supervised role restarts: ${roleRestarts}\n` +
      deathCauses.map((cause) => `  - ${cause}\n`).join(''),
  );
} finally {
  stopping = true;
  worker!.kill('SIGTERM');
  await sql.end({ timeout: 1 });
  await server.stop();
}
if (process.argv.includes('--print-output')) process.stdout.write(output);
