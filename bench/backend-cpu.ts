import { readFile } from 'node:fs/promises';
import type { Queryable } from '../src/core/db.js';

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

/**
 * PIDs of this database's backends whose `application_name` is `name` (the CLI worker's pool
 * uses `mvfleet-worker`); other databases' backends (a test suite sharing the server) are not counted.
 */
export async function backendPids(sql: Queryable, name: string): Promise<number[]> {
  const rows = await sql<{ pid: number }[]>`
    SELECT pid FROM pg_stat_activity WHERE application_name = ${name} AND datname = current_database()`;
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

/**
 * Runs `work` and measures it: wall time, and the CPU of `backends` (pids) plus that of the
 * parallel workers they start. Parallel workers exit with their query, so they are sampled
 * every `sampleMs` while `work` runs (their last reading is kept: CPU spent after it, at most
 * one sample interval each, is not counted). `cpuMs` is null when /proc does not show the server.
 */
export async function measureWork<T>(
  sql: Queryable,
  backends: readonly number[],
  work: () => Promise<T>,
  sampleMs = 10,
): Promise<{ value: T; ms: number; cpuMs: number | null }> {
  const before = await backendCpuMs(backends);
  const workers = new Map<number, number>();
  let running = true;
  const sampler = (async () => {
    // Sleep first: work shorter than one interval (a targeted refresh) runs without a concurrent query.
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, sampleMs));
      if (!running) break;
      const rows = await sql<{ pid: number }[]>`
        SELECT pid FROM pg_stat_activity WHERE leader_pid = ANY(${backends as number[]}) AND pid <> leader_pid`;
      const reading = await backendCpuMs(rows.map((row) => row.pid));
      for (const [pid, ms] of reading ?? []) workers.set(pid, ms);
    }
    return true;
  })().catch(() => false);
  const start = performance.now();
  let value: T;
  try {
    value = await work();
  } finally {
    running = false;
  }
  const ms = performance.now() - start;
  const sampled = await sampler;
  const after = await backendCpuMs(backends);
  const parallel = [...workers.values()].reduce((total, cpu) => total + cpu, 0);
  return { value, ms, cpuMs: before && after && sampled ? cpuBetween(before, after) + parallel : null };
}
