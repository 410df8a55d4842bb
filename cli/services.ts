import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { createDb, type DbHandle } from '../core/db.js';
import { ConfigError, ConnectionError, oneLine } from '../core/errors.js';
import { createRedis, describeRedisTarget } from '../core/redis.js';
import type { CommandContext } from './command.js';

/** Connects to `DATABASE_URL`, failing fast with host and port when it cannot be reached. */
export async function connectDatabase(context: CommandContext, applicationName = 'mvfleet-cli'): Promise<DbHandle> {
  const url = context.env().DATABASE_URL;
  if (!url) throw new ConfigError('DATABASE_URL is not set (e.g. postgres://user:password@127.0.0.1:5432/app)');
  const handle = createDb({ url, applicationName });
  try {
    await handle.ping();
  } catch (error) {
    await handle.close(0);
    throw error;
  }
  return handle;
}

/** Connects to `REDIS_URL`, failing fast with host and port when it cannot be reached. */
export async function connectRedis(context: CommandContext, role: 'worker' | 'producer'): Promise<Redis> {
  const url = context.env().REDIS_URL;
  if (!url) throw new ConfigError('REDIS_URL is not set (e.g. redis://127.0.0.1:6379)');
  const redis = createRedis({ url, role });
  redis.on('error', () => {});
  try {
    const timeout = new AbortController();
    try {
      await Promise.race([
        redis.status === 'ready' ? Promise.resolve() : once(redis, 'ready'),
        delay(5_000, undefined, { signal: timeout.signal }).then(() => Promise.reject(new Error('timed out after 5 s'))),
      ]);
    } finally {
      timeout.abort();
    }
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new ConnectionError(`cannot reach Redis at ${describeRedisTarget(url)}: ${oneLine(error)}`, { cause: error });
  }
  return redis;
}
