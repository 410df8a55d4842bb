import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { minimalChildEnv } from '../src/config/env.js';

const CLI = fileURLToPath(new URL('../bin/mvfleet.js', import.meta.url));

/** A `mvfleet worker` process, as an operator would run it. */
export interface WorkerProcess {
  /**
   * The process that runs the worker: a child of the `mvfleet` process, which supervises it
   * (src/cli/supervisor.ts), so not the pid that was spawned.
   */
  pid: number;
  /** Its `worker_id` in `mv_refresh_log`, as it logged it. */
  workerId: string;
  /** Resident set size of the worker process now and at its peak (`VmRSS`, `VmHWM` of /proc/<pid>/status), in bytes. */
  memory(): Promise<{ rss: number; peak: number }>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface WorkerProcessOptions {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  /** @defaultValue 2, the CLI's default */
  concurrency?: number;
  /** @defaultValue 30_000 */
  startTimeoutMs?: number;
}

/** Starts `mvfleet worker` and resolves once it logged "worker started" (it then takes jobs). */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', '--concurrency', String(options.concurrency ?? 2)], {
    env: {
      ...minimalChildEnv(),
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: options.redisUrl,
      MVFLEET_PREFIX: options.prefix,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const { pid, workerId } = await waitForStartLine(child, exited, options.startTimeoutMs ?? 30_000);
  return {
    pid,
    workerId,
    memory: () => processMemory(pid),
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The JSON log line a worker writes once it takes jobs (src/fleet/start-fleet.ts). */
interface StartLine {
  pid: number;
  workerId: string;
}

function parseStartLine(line: string): StartLine | null {
  try {
    const entry = JSON.parse(line) as { msg?: unknown; pid?: unknown; workerId?: unknown };
    return entry.msg === 'worker started' && typeof entry.pid === 'number' && typeof entry.workerId === 'string'
      ? { pid: entry.pid, workerId: entry.workerId }
      : null;
  } catch {
    return null;
  }
}

function waitForStartLine(child: ChildProcess, exited: Promise<void>, timeoutMs: number): Promise<StartLine> {
  return new Promise((resolve, reject) => {
    let output = '';
    let started = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker process did not start within ${timeoutMs} ms:\n${output.slice(-2_000)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      if (started) return;
      // Keep only a tail: a busy worker logs one line per refresh for the whole run.
      output = (output + chunk.toString()).slice(-8_000);
      const line = output.split('\n').slice(0, -1).map(parseStartLine).find((entry) => entry !== null);
      if (line) {
        started = true;
        clearTimeout(timer);
        resolve(line);
      }
    };
    child.stderr?.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`worker process exited before it started:\n${output.slice(-2_000)}`));
    });
  });
}

async function processMemory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}
