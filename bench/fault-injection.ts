import { readFile } from 'node:fs/promises';
import type { RestartablePostgres } from '../test/helpers/restartable-postgres.js';
import type { RestartableRedis } from '../test/helpers/restartable-redis.js';
import type { WorkerProcess } from './worker-processes.js';

/**
 * The faults of the faults scenario, each injected into services of the scenario's own:
 * a worker process killed (and a replacement started), PostgreSQL restarted fast or
 * immediate, Redis killed and started again empty.
 */

export const FAULT_KINDS = ['worker-kill', 'postgres-fast', 'postgres-immediate', 'redis-restart'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** One injected fault; times are epoch milliseconds on the machine's clock (as PostgreSQL's). */
export interface Fault {
  kind: FaultKind;
  startedAt: number;
  /** The service answers again: PostgreSQL accepts connections, Redis answers PING, the replacement worker logged 'worker started'. */
  endedAt: number;
}

/** What the faults act on. `workers` is replaced in place when a worker is killed. */
export interface FaultTargets {
  postgres: RestartablePostgres;
  redis: RestartableRedis;
  workers: WorkerProcess[];
  startWorker(): Promise<WorkerProcess>;
}

const epochMs = () => performance.timeOrigin + performance.now();

export async function injectFault(kind: FaultKind, targets: FaultTargets, victim: number): Promise<Fault> {
  const startedAt = epochMs();
  switch (kind) {
    case 'worker-kill': {
      const index = victim % targets.workers.length;
      await killWorkerProcess(targets.workers[index]!);
      targets.workers[index] = await targets.startWorker();
      break;
    }
    case 'postgres-fast':
      await targets.postgres.restart('fast');
      break;
    case 'postgres-immediate':
      await targets.postgres.restart('immediate');
      break;
    case 'redis-restart':
      await targets.redis.kill();
      await targets.redis.start();
      break;
  }
  return { kind, startedAt, endedAt: epochMs() };
}

/**
 * SIGKILLs an `mvfleet worker` as a crash would: its supervisor first (so nothing starts the
 * role again), then the role's process group (the supervisor starts the role as a group of its own).
 */
async function killWorkerProcess(worker: WorkerProcess): Promise<void> {
  const supervisor = await parentPid(worker.pid);
  // A role whose supervisor is gone has been re-parented: never signal what is not ours.
  if (supervisor !== null && supervisor !== process.pid && supervisor > 1) process.kill(supervisor, 'SIGKILL');
  try {
    process.kill(-worker.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function parentPid(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (2nd field) is parenthesised and may hold spaces: fields are read after it.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : null;
  } catch {
    return null;
  }
}
