import { ConfigError } from '../core/errors.js';
import type { RedisClient } from './redis-client.js';
import type { RedisTopology } from './redis-url.js';

/** The hash tag Redis Cluster hashes a key by: the text between its first `{` and the next `}`, when not empty. */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open === -1) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/**
 * A cluster keeps a fleet's keys together only when they share a hash slot: BullMQ's scripts
 * touch several keys of a queue at once, and a cluster refuses that across slots (CROSSSLOT).
 * Every key mvfleet writes starts with the prefix, so a prefix with a hash tag is enough.
 */
export function requireClusterPrefix(prefix: string): void {
  if (hashTagOf(prefix) !== undefined) return;
  throw new ConfigError(
    `MVFLEET_PREFIX "${prefix}" has no hash tag: on a Redis Cluster the prefix must contain one, such as "{${prefix.replace(/[{}]/g, '') || 'mvfleet'}}", so every key of the fleet lives in one hash slot`,
  );
}

/** Reads one `field:value` line of an INFO section. */
function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/**
 * Checks, once connected, that the server is the kind of Redis the configuration says. A
 * plain client on a cluster node sees every command on a slot the node does not own answered
 * with MOVED; on a replica, every write with READONLY: the fleet could not work at all, so
 * this is a configuration error, not a connection problem to wait out.
 */
export async function checkRedisTopology(client: RedisClient, topology: RedisTopology, target: string): Promise<void> {
  if (topology.mode === 'cluster') return; // the cluster client itself refuses a server without cluster support
  const clusterInfo = await client.info('cluster');
  if (infoField(clusterInfo, 'cluster_enabled') === '1') {
    throw new ConfigError(
      `${target} is a Redis Cluster node; configure cluster nodes: REDIS_URL=redis+cluster://host:port,host:port (rediss+cluster:// for TLS), with a hash-tagged MVFLEET_PREFIX such as {mvfleet}`,
    );
  }
  if (topology.mode === 'standalone') {
    const replication = await client.info('replication');
    if (infoField(replication, 'role') === 'slave') {
      throw new ConfigError(
        `${target} is a read-only replica; point REDIS_URL at the master, or at its Sentinels with redis+sentinel://host:port,host:port/master-name`,
      );
    }
  }
}

/**
 * The configuration error a cluster client's connection failure stands for, when it stands
 * for one: the seed nodes answer but have no cluster support.
 */
export function clusterMisconfiguration(lastError: unknown, target: string): ConfigError | undefined {
  const message = String((lastError as { lastNodeError?: Error } | undefined)?.lastNodeError?.message ?? (lastError as Error | undefined)?.message ?? '');
  if (!/cluster support disabled/i.test(message)) return undefined;
  return new ConfigError(`${target}: these nodes are not a Redis Cluster (cluster support disabled); use REDIS_URL=redis://host:port for one server`);
}
