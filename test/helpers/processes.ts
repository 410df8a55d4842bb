import { readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { minimalChildEnv } from '../../src/config/env.js';
import { CLI } from './cli.js';

const TSX_LOADER = 'tsx';
const FIXTURE = fileURLToPath(new URL('../fixtures/worker-process.ts', import.meta.url));

export interface ChildHandle {
  child: ChildProcess;
  /** Everything written so far. */
  output(): string;
  /** Resolves when the output contains `text` (rejects after `timeoutMs` or if the process exits first). */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function track(child: ChildProcess): ChildHandle {
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => output,
    exited,
    waitFor(text, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (output.includes(text)) {
            cleanup();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for "${text}"; output:\n${output}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        void exited.then(() => {
          if (!output.includes(text)) {
            cleanup();
            reject(new Error(`process exited before "${text}"; output:\n${output}`));
          }
        });
        listeners.add(check);
        check();
      });
    },
  };
}

/** Spawns children that are killed (SIGKILL) after the test file if still running. */
export function useChildProcesses() {
  const children: ChildHandle[] = [];
  afterAll(async () => {
    for (const handle of children) {
      if (handle.child.exitCode === null && handle.child.signalCode === null) handle.child.kill('SIGKILL');
    }
    await Promise.all(children.map((handle) => handle.exited));
  });
  return {
    /** `mvfleet <args>` as a long-running process. */
    /** `group`: the child leads its own process group, so a test can signal it like a terminal does. */
    cli(args: string[], env: Record<string, string>, options: { cwd?: string; group?: boolean } = {}): ChildHandle {
      const handle = track(
        spawn(process.execPath, [CLI, ...args], {
          env: { ...minimalChildEnv(), ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
          cwd: options.cwd,
          detached: options.group ?? false,
        }),
      );
      children.push(handle);
      return handle;
    },
    /** The worker fixture (test/fixtures/worker-process.ts) with test policies. */
    worker(config: Record<string, unknown>): ChildHandle {
      const handle = track(
        spawn(process.execPath, ['--import', TSX_LOADER, FIXTURE, JSON.stringify(config)], {
          env: minimalChildEnv(),
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      children.push(handle);
      return handle;
    },
  };
}

/** PIDs of a process's children (the supervised role of an `mvfleet worker`). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return []; // the process is gone
  }
}

/** SIGKILLs an `mvfleet worker` and its supervised role: the role runs in a process group of its own. */
export function killWorker(worker: ChildHandle): void {
  // An exited worker's PID may belong to another process by now.
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  const roles = childPids(worker.child.pid!);
  worker.child.kill('SIGKILL');
  for (const pid of roles) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
