import type { Redis } from 'ioredis';
import { MvfleetError } from '../core/errors.js';
import { createRedisClient, type RedisClientOptions } from './redis-client.js';
import { parseRedisUrl } from './redis-url.js';

/** Options for {@link createRedis}. */
export interface RedisConnectionOptions extends Pick<RedisClientOptions, 'role' | 'connectTimeoutMs'> {
  /** `redis://` or `rediss://` URL of one server. */
  url: string;
}

/**
 * A plain connection to one Redis server (for INFO, key scans and the like beside the
 * queue), with the queue clients' role settings: {@link createRedisClient} on a one-server URL.
 */
export function createRedis(options: RedisConnectionOptions): Redis {
  const topology = parseRedisUrl(options.url);
  if (topology.mode !== 'standalone') throw new MvfleetError(`createRedis takes the URL of one server (got a ${topology.mode} URL)`);
  return createRedisClient({ topology, role: options.role, connectTimeoutMs: options.connectTimeoutMs }) as Redis;
}
