import { Redis, type RedisOptions } from 'ioredis';

/** Options for {@link createRedis}. */
export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` URL. */
  url: string;
  /**
   * `worker`: blocking commands, retries forever (BullMQ requires `maxRetriesPerRequest: null`).
   * `producer`: fails a command after a bounded time instead of queueing it while Redis is down,
   * so an `emit` rejects rather than hanging.
   * @defaultValue 'worker'
   */
  role?: 'worker' | 'producer';
  /**
   * Connection timeout in milliseconds.
   * @defaultValue 5000
   */
  connectTimeoutMs?: number;
}

/** Creates an ioredis connection configured for BullMQ. */
export function createRedis(options: RedisConnectionOptions): Redis {
  const { url, role = 'worker', connectTimeoutMs = 5_000 } = options;
  const base: RedisOptions = { connectTimeout: connectTimeoutMs, lazyConnect: false };
  const byRole: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: false }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (times) => Math.min(times * 200, 2_000) };
  return new Redis(url, { ...base, ...byRole });
}

/** Describes a Redis URL as `host:port` without credentials. */
export function describeRedisTarget(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname || 'localhost'}:${parsed.port || '6379'}`;
}
