import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, inject } from 'vitest';
import { createRedis } from '../../core/redis.js';

export interface TestRedis {
  readonly url: string;
  /** This file's own queue prefix: no two files share queue keys. */
  readonly prefix: string;
  /** A new connection (closed after the file) for a worker or queue. */
  connect(role?: 'worker' | 'producer'): Redis;
}

/** Gives the calling test file its own BullMQ key prefix on the suite's Redis; deletes its keys afterwards. */
export function useTestRedis(): TestRedis {
  const url = inject('redisUrl');
  const prefix = `{mvfleet-test-${process.pid}-${randomBytes(3).toString('hex')}}`;
  const connections: Redis[] = [];

  afterAll(async () => {
    const cleaner = createRedis({ url });
    let cursor = '0';
    do {
      const [next, keys] = await cleaner.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await cleaner.del(...keys);
    } while (cursor !== '0');
    cleaner.disconnect();
    for (const connection of connections) connection.disconnect();
  });

  return {
    url,
    prefix,
    connect(role = 'worker') {
      const connection = createRedis({ url, role });
      connection.on('error', () => {});
      connections.push(connection);
      return connection;
    },
  };
}
