import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { createPostgresBackend, createRedisBackend, Queue, Worker, type BackendFactory, type Processor, type WorkerOptions } from 'bullmq';
import type { NatMap } from 'ioredis';
import pg from 'pg';
import { describeTarget } from '../core/db.js';
import { ConfigError, ConnectionError, oneLine } from '../core/errors.js';
import { withFetchBackoff } from './fetch-backoff.js';
import { createRedisClient, type RedisClient } from './redis-client.js';
import { trackWorkerConnections } from './worker-connections.js';
import { checkRedisTopology, clusterMisconfiguration, requireClusterPrefix } from './redis-topology-check.js';
import { describeRedisTopology, parseRedisUrl } from './redis-url.js';
import { TimeoutError, withTimeout } from '../core/with-timeout.js';

/**
 * The one place that decides where BullMQ keeps the fleet's jobs: Redis (the production
 * default, and what a large fleet scales on) or PostgreSQL (BullMQ 6's PostgreSQL backend,
 * for installs without Redis and for the zero-setup demo). Queues, workers, the scheduler,
 * producers and Bull Board all get theirs from here.
 */
export interface QueueBackend {
  readonly kind: 'redis' | 'postgres';
  /** `Redis at host:port` or `PostgreSQL at host:port/db`, for messages. */
  readonly target: string;
  /** A BullMQ queue on this backend (closed by its caller). */
  queue(name: string): Queue;
  /** A BullMQ worker on this backend (closed by its caller). */
  worker<T = unknown, R = unknown>(
    name: string,
    processor: Processor<T, R>,
    options: Omit<WorkerOptions, 'connection' | 'prefix'>,
  ): Worker<T, R>;
  /** Runs `work` while holding a fleet-wide lock named `name` (short critical sections only). */
  withLock<T>(name: string, work: () => Promise<T>): Promise<T>;
  /**
   * Fails with a clear error when the backend cannot be reached (`ConnectionError`) or is not
   * what the configuration says (`ConfigError`: a plain Redis URL pointed at a cluster node or
   * a replica, cluster nodes without cluster support).
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Options for {@link createRedisQueueBackend}. */
export interface RedisQueueBackendOptions {
  /**
   * `redis://[user:password@]host:port[/db]` for one server,
   * `redis+cluster://[user:password@]host:port,host:port` for a Redis Cluster (seed nodes),
   * `redis+sentinel://[user:password@]host:port,host:port/master-name[/db]` for Sentinel;
   * `rediss…` for TLS (see `parseRedisUrl`).
   */
  url: string;
  /**
   * Key prefix; braces make it a Redis Cluster hash tag, so one fleet lives in one slot. On a
   * cluster a prefix without a hash tag is refused.
   * @defaultValue '{mvfleet}'
   */
  prefix?: string;
  /**
   * Cluster only: node addresses as the nodes announce them, mapped to addresses this process
   * reaches (nodes behind NAT or in containers).
   * @defaultValue none
   */
  natMap?: NatMap;
  /**
   * `producer` connections fail commands fast while Redis is down instead of queueing them.
   * @defaultValue 'worker'
   */
  role?: 'worker' | 'producer';
}

/** Options for {@link createPostgresQueueBackend}. */
export interface PostgresQueueBackendOptions {
  url: string;
  /**
   * Schema holding BullMQ's tables and functions (created on first use).
   * @defaultValue 'mvfleet_queue'
   */
  schema?: string;
}

const LOCK_TTL_MS = 30_000;

export function createRedisQueueBackend(options: RedisQueueBackendOptions): QueueBackend & { redis: RedisClient } {
  const prefix = options.prefix ?? '{mvfleet}';
  const topology = parseRedisUrl(options.url);
  if (topology.mode === 'cluster') requireClusterPrefix(prefix);
  const redis = createRedisClient({ topology, role: options.role ?? 'worker', ...(options.natMap ? { natMap: options.natMap } : {}) });
  // Kept for ping(): a cluster client that never becomes ready says why only in its errors.
  let lastError: unknown;
  redis.on('error', (error: unknown) => {
    lastError = error;
  });
  const target = describeRedisTopology(topology);

  const workerConnections = trackWorkerConnections(redis);

  return {
    kind: 'redis',
    target,
    redis,
    queue: (name) => new Queue(name, { connection: redis, prefix }),
    worker: (name, processor, workerOptions) => {
      const backoff = withFetchBackoff(createRedisBackend as BackendFactory);
      const worker = workerConnections.build(
        () => new Worker(name, processor, { ...workerOptions, connection: redis, prefix }, backoff.factory as never),
      );
      worker.once('closing', backoff.stop);
      return worker as never;
    },
    async withLock(name, work) {
      const key = `${prefix}:mvfleet:lock:${name}`;
      const token = `${process.pid}:${Math.random()}`;
      const deadline = Date.now() + LOCK_TTL_MS;
      while ((await redis.set(key, token, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') {
        if (Date.now() > deadline) throw new Error(`could not take the ${name} lock within ${LOCK_TTL_MS / 1000} s`);
        await delay(50);
      }
      try {
        return await work();
      } finally {
        // Release only our own lock: it may have expired and been taken by another process.
        await redis.eval(
          "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
          1,
          key,
          token,
        );
      }
    },
    async ping() {
      try {
        // Through Sentinels, errors while a failover settles are passing ("All sentinels are
        // unreachable" while the master they name is down): wait for the reconnect instead.
        const waiting = new AbortController();
        try {
          if (redis.status !== 'ready') await withTimeout(untilReady(redis, waiting.signal, topology.mode === 'sentinel'), 5_000, 'connecting');
        } finally {
          waiting.abort();
        }
        await redis.ping();
      } catch (error) {
        const misconfigured = topology.mode === 'cluster' ? clusterMisconfiguration(lastError ?? error, target) : undefined;
        if (misconfigured) throw misconfigured;
        const why = error instanceof TimeoutError && lastError !== undefined ? ` (last error: ${oneLine(lastError)})` : '';
        throw new ConnectionError(`cannot reach ${target}: ${oneLine(error)}${why}${tlsHint(topology.tls, lastError ?? error)}`, { cause: error });
      }
      await checkRedisTopology(redis, topology, target);
    },
    async close() {
      workerConnections.endAll();
      redis.disconnect();
    },
  };
}

/**
 * A TLS-only Redis port resets a plain connection at once, which ioredis reports as a bare
 * `ECONNRESET`: with a `redis://` URL, say what the likely mistake is.
 */
function tlsHint(tls: boolean, error: unknown): string {
  if (tls || (error as { code?: unknown } | null)?.code !== 'ECONNRESET') return '';
  return ' (the server reset the connection: if this port serves TLS, use rediss://)';
}

/** Resolves on the client's next `ready`; an `error` before it rejects, unless `throughErrors`. */
async function untilReady(redis: RedisClient, signal: AbortSignal, throughErrors: boolean): Promise<void> {
  for (;;) {
    try {
      await once(redis, 'ready', { signal });
      return;
    } catch (error) {
      if (!throughErrors || signal.aborted) throw error;
    }
  }
}

export function createPostgresQueueBackend(options: PostgresQueueBackendOptions): QueueBackend {
  const schema = options.schema ?? 'mvfleet_queue';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new ConfigError(`queue schema must be a plain identifier (got "${schema}")`);
  // Each queue and worker builds its own pool from this config (BullMQ owns and closes it);
  // `migrate` creates BullMQ's schema on first use.
  const connection = () => ({ connectionString: options.url, schema, migrate: true, max: 4 });
  const target = `PostgreSQL at ${describeTarget(options.url)}`;
  const client = async () => {
    const c = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: 10_000 });
    await c.connect();
    return c;
  };
  return {
    kind: 'postgres',
    target,
    // BullMQ's typings tie `connection` to the Redis options unless the factory is passed; it is.
    queue: (name) => new Queue(name, { connection: connection() as never }, createPostgresBackend as never),
    worker: (name, processor, workerOptions) => {
      const backoff = withFetchBackoff(createPostgresBackend as unknown as BackendFactory);
      const worker = new Worker(name, processor, { ...workerOptions, connection: connection() as never }, backoff.factory as never);
      worker.once('closing', backoff.stop);
      return worker as never;
    },
    async withLock(name, work) {
      const c = await client();
      try {
        await c.query('SELECT pg_advisory_lock(hashtext($1))', [`mvfleet:lock:${name}`]);
        return await work();
      } finally {
        // Ending the session releases the lock, also when the unlock is never reached.
        await c.end();
      }
    },
    async ping() {
      try {
        const c = await client();
        await c.end();
      } catch (error) {
        throw new ConnectionError(`cannot reach ${target}: ${oneLine(error)}`, { cause: error });
      }
    },
    async close() {},
  };
}

/** Which backend a configuration selects: explicit choice, else Redis when a URL is given, else PostgreSQL. */
export function chooseQueueBackend(config: {
  backend?: 'redis' | 'postgres' | undefined;
  redisUrl?: string | undefined;
  databaseUrl?: string | undefined;
}): 'redis' | 'postgres' {
  return config.backend ?? (config.redisUrl ? 'redis' : 'postgres');
}
