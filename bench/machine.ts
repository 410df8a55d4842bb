import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Redis } from 'ioredis';
import type { Sql } from '../src/core/db.js';

export interface MachineInfo {
  hostname: string;
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  loadAverage: number[];
  platform: string;
  node: string;
  postgres: string;
  redis: string;
  bullmq: string;
  /** The server's `autovacuum` setting: off, churned tables (dirty keys, refresh log) bloat between the bench's own VACUUMs. */
  autovacuum: string;
}

/** The 1-, 5- and 15-minute load averages, rounded to hundredths. */
export function loadAverage(): number[] {
  return os.loadavg().map((value) => Math.round(value * 100) / 100);
}

/** Where and on what a run was measured; noisy shared machines make this part of every figure. */
export async function machineInfo(sql: Sql, redis: Redis): Promise<MachineInfo> {
  const [{ server_version: postgres }] = await sql<[{ server_version: string }]>`SHOW server_version`;
  const [{ autovacuum }] = await sql<[{ autovacuum: string }]>`SHOW autovacuum`;
  const info = await redis.info('server');
  const bullmqPackage = JSON.parse(
    await readFile(new URL('../node_modules/bullmq/package.json', import.meta.url), 'utf8'),
  ) as { version: string };
  return {
    hostname: os.hostname(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    loadAverage: loadAverage(),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres,
    redis: /^redis_version:(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown',
    bullmq: bullmqPackage.version,
    autovacuum,
  };
}
