import { readFile } from 'node:fs/promises';
import type { Queryable } from '../core/db.js';

/** Linux reports utime/stime in clock ticks; 100 per second on every mainstream kernel config. */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system) of PostgreSQL backends, read from /proc: only possible when the
 * server runs on this machine and its processes are visible. Resolves to null otherwise.
 */
export async function backendCpuMs(pids: readonly number[]): Promise<Map<number, number> | null> {
  const result = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      result.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND);
    } catch (error) {
      // A backend that exited since it was listed has simply no more CPU to report.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      return null;
    }
  }
  return result;
}

/** PIDs of the backends whose `application_name` is `name` (the CLI worker's pool uses `mvfleet-worker`). */
export async function backendPids(sql: Queryable, name: string): Promise<number[]> {
  const rows = await sql<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE application_name = ${name}`;
  return rows.map((row) => row.pid);
}

/** CPU spent by the given backends between two readings (backends that appeared count from zero). */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** Whether the server's backends are visible here (a local server), by reading our own backend. */
export async function cpuVisible(sql: Queryable): Promise<boolean> {
  const [{ pid }] = await sql<[{ pid: number }]>`SELECT pg_backend_pid() AS pid`;
  const reading = await backendCpuMs([pid]);
  return reading !== null && reading.has(pid);
}
