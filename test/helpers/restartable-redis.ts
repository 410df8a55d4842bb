import { Redis } from 'ioredis';
import { freePort } from '../../examples/demo/run/free-port.js';
import { startRedisServer, type RedisServerProcess } from './redis-server-process.js';

/** A redis-server of one test's own, without persistence, which the test may kill and start again. */
export interface RestartableRedis {
  url: string;
  /** SIGKILLs the server: everything it held is gone (no RDB, no AOF). Resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts an empty server on the same port; resolves once it answers PING. */
  start(): Promise<void>;
  /** `FLUSHALL` on this server. */
  flushAll(): Promise<void>;
  /** Kills the server if it runs. Idempotent. */
  stop(): Promise<void>;
}

/** Starts `redis-server` (from PATH) on a free port, bound to 127.0.0.1, with persistence off. */
export async function startRestartableRedis(): Promise<RestartableRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let server: RedisServerProcess | undefined;

  async function start(): Promise<void> {
    if (server) throw new Error('redis-server is already running');
    server = await startRedisServer(port, []);
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      await client.ping();
    } finally {
      client.disconnect();
    }
  }

  async function kill(): Promise<void> {
    const running = server;
    if (!running) return;
    server = undefined;
    await running.kill();
  }

  await start();
  return {
    url,
    kill,
    start,
    async flushAll() {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await client.connect();
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    stop: kill,
  };
}
