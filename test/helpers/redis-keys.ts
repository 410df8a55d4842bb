import { Cluster } from 'ioredis';
import { createRedisClient } from '../../src/queue/redis-client.js';
import { parseRedisUrl } from '../../src/queue/redis-url.js';

/**
 * Deletes the keys matching `pattern` (a test's own prefix, never everything) on the Redis
 * `url` names: one server, or every master of a cluster (SCAN only sees its node's keys).
 */
export async function deleteRedisKeys(url: string, pattern: string): Promise<void> {
  const client = createRedisClient({ topology: parseRedisUrl(url) });
  try {
    const servers = client instanceof Cluster ? client.nodes('master') : [client];
    if (client instanceof Cluster && servers.length === 0) {
      await client.ping(); // connects and learns the masters
      servers.push(...client.nodes('master'));
    }
    for (const server of servers) {
      let cursor = '0';
      do {
        const [next, keys] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        // One DEL per key (pipelined): on a cluster, the keys of one DEL must share a slot.
        if (keys.length > 0) await server.pipeline(keys.map((key) => ['del', key])).exec();
      } while (cursor !== '0');
    }
  } finally {
    client.disconnect();
  }
}
