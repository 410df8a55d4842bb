import type { Worker } from 'bullmq';
import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './redis-client.js';

/** The connections one worker owns: the client copies BullMQ made for it, and their cluster node connections. */
interface Owned {
  connections: Set<Redis | Cluster>;
  closed: boolean;
}

/**
 * Ends every connection a BullMQ worker opened once the worker closed.
 *
 * A worker runs on copies of the backend's client (`duplicate()`, called while it is built).
 * On a Redis Cluster, closing the worker interrupts its blocking fetch; BullMQ's cluster
 * recovery takes that for a lost connection and reconnects the copy while the close goes on,
 * and a node connection opened by that reconnect can outlive the copy's own disconnect: the
 * process never exits. So each worker's copies, and every node connection they add, are
 * disconnected once it closed, and again whenever they connect after that.
 */
export function trackWorkerConnections(redis: RedisClient) {
  let building: Owned | undefined;
  const live = new Set<Owned>();
  const duplicate = redis.duplicate.bind(redis) as (...args: unknown[]) => RedisClient;
  redis.duplicate = ((...args: unknown[]) => {
    const copy = duplicate(...args);
    const owned = building;
    if (owned) {
      owned.connections.add(copy);
      if (copy instanceof Cluster) {
        copy.on('+node', (node: Redis) => {
          owned.connections.add(node);
          if (owned.closed) end(node);
        });
      }
    }
    return copy;
  }) as typeof redis.duplicate;

  return {
    /** Builds a worker with `make`, recording the client copies it makes. */
    build<W extends Worker>(make: () => W): W {
      const owned: Owned = { connections: new Set(), closed: false };
      building = owned;
      let worker: W;
      try {
        worker = make();
      } finally {
        building = undefined;
      }
      live.add(owned);
      worker.once('closed', () => {
        endAll(owned);
        live.delete(owned);
      });
      return worker;
    },
    /** Ends the connections of every worker still open (the backend closes). */
    endAll() {
      for (const owned of live) endAll(owned);
      live.clear();
    },
  };
}

function endAll(owned: Owned): void {
  owned.closed = true;
  for (const connection of owned.connections) end(connection);
}

function end(connection: Redis | Cluster): void {
  const disconnect = () => connection.disconnect();
  disconnect();
  connection.on('connect', disconnect);
  connection.on('ready', disconnect);
}
