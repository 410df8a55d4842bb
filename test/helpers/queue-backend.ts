import { randomBytes } from 'node:crypto';
import { afterAll, inject } from 'vitest';
import { loadTestEnv } from '../../src/config/env.js';
import { createPostgresQueueBackend, createRedisQueueBackend, type QueueBackend } from '../../src/queue/queue-backend.js';
import type { TestDatabase } from './database.js';
import { deleteRedisKeys } from './redis-keys.js';

export interface TestQueue {
  readonly kind: 'redis' | 'postgres';
  /** A backend on this file's own queue namespace (closed after the file). */
  backend(role?: 'worker' | 'producer'): QueueBackend;
  /** A backend on a second namespace of this file, named `name`: its own queue, nothing shared. */
  isolated(name: string): QueueBackend;
  /** Environment for `mvfleet` child processes to use this file's queue. */
  env(): Record<string, string>;
  /** What the worker fixture needs to build the same backend. */
  fixtureConfig(): { kind: 'redis' | 'postgres'; url: string; prefix?: string };
}

/**
 * This file's queue, on the backend the run tests (`TEST_QUEUE_BACKEND`, default redis):
 * on Redis (one server, or the run's own Redis Cluster) its own key prefix (keys deleted
 * afterwards), on PostgreSQL BullMQ's schema inside the file's own database (dropped with it).
 */
export function useTestQueue(db: TestDatabase): TestQueue {
  const chosen = loadTestEnv().TEST_QUEUE_BACKEND;
  const kind = chosen === 'postgres' ? 'postgres' : 'redis';
  const redisUrl = chosen === 'cluster' ? inject('redisClusterUrl') : inject('redisUrl');
  const prefix = `{mvfleet-test-${process.pid}-${randomBytes(3).toString('hex')}}`;
  const opened: QueueBackend[] = [];
  const track = (backend: QueueBackend) => (opened.push(backend), backend);

  afterAll(async () => {
    for (const backend of opened) await backend.close();
    if (kind !== 'redis') return;
    await deleteRedisKeys(redisUrl, `${prefix}*`);
  });

  return {
    kind,
    backend: (role = 'worker') =>
      track(kind === 'redis' ? createRedisQueueBackend({ url: redisUrl, prefix, role }) : createPostgresQueueBackend({ url: db.url })),
    isolated: (name) =>
      track(
        kind === 'redis'
          ? createRedisQueueBackend({ url: redisUrl, prefix: `${prefix}-${name}` })
          : createPostgresQueueBackend({ url: db.url, schema: `mvfleet_queue_${name}` }),
      ),
    env: (): Record<string, string> =>
      kind === 'redis'
        ? { MVFLEET_QUEUE_BACKEND: 'redis', REDIS_URL: redisUrl, MVFLEET_PREFIX: prefix }
        : { MVFLEET_QUEUE_BACKEND: 'postgres' },
    fixtureConfig: () => (kind === 'redis' ? { kind, url: redisUrl, prefix } : { kind, url: db.url }),
  };
}
