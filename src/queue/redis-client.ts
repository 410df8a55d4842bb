import { Cluster, Redis, type ClusterOptions, type NatMap, type RedisOptions } from 'ioredis';
import type { RedisTopology } from './redis-url.js';

/** Options for {@link createRedisClient}. */
export interface RedisClientOptions {
  /** Where Redis lives (`parseRedisUrl`). */
  topology: RedisTopology;
  /**
   * `worker`: blocking commands, retries forever (BullMQ requires `maxRetriesPerRequest: null`).
   * `producer`: fails a command after a bounded time instead of queueing it while Redis is down,
   * so an `emit` rejects rather than hanging.
   * @defaultValue 'worker'
   */
  role?: 'worker' | 'producer';
  /**
   * Connection timeout in milliseconds, per node.
   * @defaultValue 5000
   */
  connectTimeoutMs?: number;
  /**
   * Cluster only: addresses the nodes announce mapped to addresses this process can reach
   * (`{ '10.0.0.5:6379': { host: 'redis-0.example', port: 6379 } }`), for nodes behind NAT
   * or in containers.
   * @defaultValue none
   */
  natMap?: NatMap;
}

/** The ioredis client a topology needs: `Redis` for one server or Sentinel, `Cluster` for a cluster. */
export type RedisClient = Redis | Cluster;

/**
 * Creates the ioredis client for a queue topology, configured for BullMQ. The same role
 * settings apply to a standalone server, every cluster node and a Sentinel-managed master.
 */
export function createRedisClient(options: RedisClientOptions): RedisClient {
  const { topology, role = 'worker', connectTimeoutMs = 5_000 } = options;
  const base: RedisOptions = { connectTimeout: connectTimeoutMs, lazyConnect: false };
  const byRole: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: false }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (times) => Math.min(times * 200, 2_000) };
  const auth: RedisOptions = {
    ...(topology.mode !== 'standalone' && topology.username !== undefined ? { username: topology.username } : {}),
    ...(topology.mode !== 'standalone' && topology.password !== undefined ? { password: topology.password } : {}),
    ...(topology.mode !== 'standalone' && topology.tls ? { tls: {} } : {}),
  };
  switch (topology.mode) {
    case 'standalone':
      // ioredis reads host, port, credentials, database and TLS (`rediss://`) from the URL itself.
      return new Redis(topology.url, { ...base, ...byRole });
    case 'cluster': {
      const clusterOptions: ClusterOptions = {
        redisOptions: { ...base, ...byRole, ...auth },
        // The cluster-level ready check (CLUSTER INFO) is what tells a usable cluster from one
        // still forming; its offline queue holds commands until then (an emit stays bounded by
        // the producer's own timeout).
        enableReadyCheck: true,
        enableOfflineQueue: true,
        // Slot maps go stale during a failover or resharding: refresh them rather than failing.
        retryDelayOnFailover: 200,
        retryDelayOnClusterDown: 200,
        retryDelayOnMoved: 50,
        clusterRetryStrategy: (times) => Math.min(times * 200, 2_000),
        ...(options.natMap ? { natMap: options.natMap } : {}),
      };
      return new Cluster(topology.nodes, clusterOptions);
    }
    case 'sentinel':
      return new Redis({
        ...base,
        ...byRole,
        ...auth,
        sentinels: topology.sentinels,
        name: topology.masterName,
        db: topology.db,
        ...(topology.sentinelUsername !== undefined ? { sentinelUsername: topology.sentinelUsername } : {}),
        ...(topology.sentinelPassword !== undefined ? { sentinelPassword: topology.sentinelPassword } : {}),
        ...(topology.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
        // No `failoverDetector`: its reconnect, arriving while the client is already reconnecting
        // to a dead master, leaves the client closed for good. A dead master fails its
        // connection anyway, and the reconnect asks the Sentinels for the new one.
        sentinelRetryStrategy: (times) => Math.min(times * 200, 2_000),
        // A demoted master answers writes with READONLY: reconnect, which asks the Sentinels
        // for the new master, and resend the command.
        reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
      });
  }
}
