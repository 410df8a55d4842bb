import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '../../examples/demo/run/free-port.js';
import { redisCli, startRedisServer, type RedisServerProcess } from './redis-server-process.js';

export const SENTINEL_MASTER_NAME = 'mvfleet-test';

/** A master, one replica and one Sentinel this test started in a temp dir. */
export interface TestRedisSentinel {
  /** `redis+sentinel://127.0.0.1:port/mvfleet-test`. */
  url: string;
  master: RedisServerProcess;
  replica: RedisServerProcess;
  sentinel: RedisServerProcess;
  /** The port the Sentinel currently names as master. */
  masterPort(): Promise<number>;
  /** Kills every process by PID and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a master, a replica of it and a Sentinel watching them (quorum 1, master down after
 * 1 s without answer), and resolves once the replica is in sync and the Sentinel knows it.
 */
export async function startRedisSentinel(): Promise<TestRedisSentinel> {
  const dir = await mkdtemp(join(tmpdir(), 'mvfleet-redis-sentinel-'));
  const started: RedisServerProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((server) => server.kill()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const master = await startRedisServer(await freePort(), ['--dir', dir]);
    started.push(master);
    // DEBUG SLEEP lets a test hold the replica back, so the master acknowledges writes it never gets.
    const replica = await startRedisServer(await freePort(), [
      '--dir', dir,
      '--replicaof', '127.0.0.1', String(master.port),
      '--enable-debug-command', 'local',
    ]);
    started.push(replica);
    const sentinelPort = await freePort();
    const config = join(dir, 'sentinel.conf');
    await writeFile(
      config,
      [
        `dir ${dir}`,
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 1000`,
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 5000`,
        '',
      ].join('\n'),
    );
    const sentinel = await startRedisServer(sentinelPort, [config], { sentinel: true });
    started.push(sentinel);
    const deadline = Date.now() + 20_000;
    const until = async (what: string, done: () => Promise<boolean>) => {
      while (!(await done())) {
        if (Date.now() > deadline) throw new Error(`Redis Sentinel setup: timed out waiting for ${what}`);
        await delay(100);
      }
    };
    await until('the replica to sync', async () => (await redisCli(replica.port, 'info', 'replication')).includes('master_link_status:up'));
    await until('the Sentinel to know the replica', async () =>
      (await redisCli(sentinelPort, 'sentinel', 'replicas', SENTINEL_MASTER_NAME)).includes(String(replica.port)),
    );
    return {
      url: `redis+sentinel://127.0.0.1:${sentinelPort}/${SENTINEL_MASTER_NAME}`,
      master,
      replica,
      sentinel,
      async masterPort() {
        const [, port] = (await redisCli(sentinelPort, 'sentinel', 'get-master-addr-by-name', SENTINEL_MASTER_NAME)).split('\n');
        return Number(port);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
