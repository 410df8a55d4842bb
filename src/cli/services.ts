import { createDb, type DbHandle } from '../core/db.js';
import { ConfigError } from '../core/errors.js';
import {
  chooseQueueBackend,
  createPostgresQueueBackend,
  createRedisQueueBackend,
  type QueueBackend,
} from '../queue/queue-backend.js';
import type { Env } from '../config/env.js';
import type { MvfleetConfig } from '../config/define-config.js';

/** Connects to `DATABASE_URL`, failing fast with host and port when it cannot be reached. */
export async function connectDatabase(
  env: Env,
  applicationName = 'mvfleet-cli',
  options: { max?: number } = {},
): Promise<DbHandle> {
  const url = env.DATABASE_URL;
  if (!url) throw new ConfigError('DATABASE_URL is not set (e.g. postgres://user:password@127.0.0.1:5432/app)');
  const handle = createDb({ url, applicationName, ...options });
  try {
    await handle.ping();
  } catch (error) {
    await handle.close(0);
    throw error;
  }
  return handle;
}

/**
 * The queue backend the environment selects (`MVFLEET_QUEUE_BACKEND`; unset: Redis when
 * `REDIS_URL` is set, else PostgreSQL at `DATABASE_URL`), checked to be reachable.
 */
export async function connectQueueBackend(env: Env, role: 'worker' | 'producer'): Promise<QueueBackend> {
  const kind = chooseQueueBackend({ backend: env.MVFLEET_QUEUE_BACKEND, redisUrl: env.REDIS_URL });
  let backend: QueueBackend;
  if (kind === 'redis') {
    if (!env.REDIS_URL) throw new ConfigError('MVFLEET_QUEUE_BACKEND is redis but REDIS_URL is not set (e.g. redis://127.0.0.1:6379)');
    backend = createRedisQueueBackend({ url: env.REDIS_URL, prefix: env.MVFLEET_PREFIX, role });
  } else {
    if (!env.DATABASE_URL) {
      throw new ConfigError('no queue: set REDIS_URL (Redis) or DATABASE_URL (PostgreSQL queue backend)');
    }
    backend = createPostgresQueueBackend({ url: env.DATABASE_URL });
  }
  try {
    await backend.ping();
  } catch (error) {
    await backend.close();
    throw error;
  }
  return backend;
}

/**
 * The dashboard's settings from the command line, the environment and the config file, for
 * `mvfleet dashboard` and `mvfleet up` alike: the environment's allowed hosts replace the config's.
 */
export function dashboardSettings(env: Env, config: MvfleetConfig, listen: { port: number; host: string }) {
  return {
    port: listen.port,
    host: listen.host,
    token: env.MVFLEET_DASHBOARD_TOKEN,
    timeZone: env.MVFLEET_TZ,
    routes: config.dashboard?.routes,
    allowedHosts: env.MVFLEET_DASHBOARD_ALLOWED_HOSTS ?? config.dashboard?.allowedHosts,
    requireTokenForReads: config.dashboard?.requireTokenForReads,
  };
}
