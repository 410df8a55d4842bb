import { ConfigError } from '../core/errors.js';

/** A host and port of a Redis node or Sentinel. */
export interface RedisAddress {
  host: string;
  port: number;
}

/** What a credential-bearing part of a Redis URL gives every connection. */
interface RedisAuth {
  /** `rediss…://`: every connection (nodes, master, replicas, Sentinels) uses TLS. */
  tls: boolean;
  username?: string;
  password?: string;
}

/**
 * Where the queue's Redis lives, read from one URL:
 *
 * - `redis://[user:password@]host:port[/db]` (or `rediss://`, TLS): one Redis server.
 * - `redis+cluster://[user:password@]host:port,host:port,…` (or `rediss+cluster://`): seed
 *   nodes of a Redis Cluster; the client discovers the others.
 * - `redis+sentinel://[user:password@]host:port,host:port,…/master-name[/db]` (or
 *   `rediss+sentinel://`): the Sentinels watching the master named `master-name`. The
 *   credentials are the master's; `?sentinelUsername=…&sentinelPassword=…` gives the
 *   Sentinels' own when they have some.
 */
export type RedisTopology =
  | ({ mode: 'standalone'; url: string; address: RedisAddress } & RedisAuth)
  | ({ mode: 'cluster'; nodes: RedisAddress[] } & RedisAuth)
  | ({
      mode: 'sentinel';
      sentinels: RedisAddress[];
      masterName: string;
      db: number;
      sentinelUsername?: string;
      sentinelPassword?: string;
    } & RedisAuth);

const DEFAULT_PORT = { standalone: 6379, cluster: 6379, sentinel: 26379 } as const;

const URL_SHAPE = /^(rediss?)(?:\+(cluster|sentinel))?:\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/;

/** The URL forms {@link parseRedisUrl} accepts, for error messages. */
export const REDIS_URL_FORMS =
  'redis://host:port, redis+cluster://host:port,host:port or redis+sentinel://host:port,host:port/master-name (rediss… for TLS)';

/**
 * Parses a queue Redis URL (see {@link RedisTopology}); throws a `ConfigError` naming the
 * problem. Credentials never appear in the message.
 */
export function parseRedisUrl(url: string): RedisTopology {
  const match = URL_SHAPE.exec(url.trim());
  if (!match) throw new ConfigError(`Redis URL must look like ${REDIS_URL_FORMS}`);
  const [, scheme, modeName, userInfo, hostList, path = '', query = ''] = match;
  const mode = (modeName ?? 'standalone') as RedisTopology['mode'];
  const auth: RedisAuth = { tls: scheme === 'rediss', ...credentials(userInfo) };
  const addresses = hostList!.split(',').map((part) => address(part, DEFAULT_PORT[mode]));
  if (addresses.length === 0 || addresses.some((a) => a === undefined)) {
    throw new ConfigError(`Redis URL has a malformed host list "${hostList}" (expected host:port[,host:port…])`);
  }
  const hosts = addresses as RedisAddress[];
  const params = new URLSearchParams(query);
  if (mode === 'standalone') {
    if (hosts.length > 1) {
      throw new ConfigError(
        'Redis URL names several hosts: write redis+cluster://host:port,host:port for a Redis Cluster or redis+sentinel://host:port,host:port/master-name for Sentinel',
      );
    }
    return { mode, url, address: hosts[0]!, ...auth };
  }
  if (mode === 'cluster') {
    // A cluster has a single database (0): a path would be a mistake silently ignored.
    if (path !== '' && path !== '/') throw new ConfigError('redis+cluster:// URL takes no path (a Redis Cluster has one database)');
    return { mode, nodes: hosts, ...auth };
  }
  const [masterName, db = '0', ...rest] = path.split('/').slice(1).map(decodeURIComponent);
  if (!masterName) throw new ConfigError('redis+sentinel:// URL must name the master after the hosts: redis+sentinel://host:26379/mymaster');
  if (rest.length > 0 || !/^\d+$/.test(db)) throw new ConfigError(`redis+sentinel:// URL path must be /master-name[/db] (got "${path}")`);
  const sentinelUsername = params.get('sentinelUsername') ?? undefined;
  const sentinelPassword = params.get('sentinelPassword') ?? undefined;
  return {
    mode,
    sentinels: hosts,
    masterName,
    db: Number(db),
    ...auth,
    ...(sentinelUsername !== undefined ? { sentinelUsername } : {}),
    ...(sentinelPassword !== undefined ? { sentinelPassword } : {}),
  };
}

/** `Redis at host:port`, `Redis Cluster at host:port,…` or `Redis Sentinel master NAME at host:port,…`, without credentials. */
export function describeRedisTopology(topology: RedisTopology): string {
  const list = (addresses: RedisAddress[]) => addresses.map(formatAddress).join(',');
  switch (topology.mode) {
    case 'standalone':
      return `Redis at ${formatAddress(topology.address)}`;
    case 'cluster':
      return `Redis Cluster at ${list(topology.nodes)}`;
    case 'sentinel':
      return `Redis Sentinel master ${topology.masterName} at ${list(topology.sentinels)}`;
  }
}

export function formatAddress({ host, port }: RedisAddress): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function credentials(userInfo: string | undefined): Pick<RedisAuth, 'username' | 'password'> {
  if (!userInfo) return {};
  const colon = userInfo.indexOf(':');
  const username = decodeURIComponent(colon === -1 ? userInfo : userInfo.slice(0, colon));
  const password = colon === -1 ? undefined : decodeURIComponent(userInfo.slice(colon + 1));
  // `redis://:secret@host` is the usual form of a password without ACL user.
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

/** `host`, `host:port` or `[v6]:port`; undefined when malformed. */
function address(part: string, defaultPort: number): RedisAddress | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+))(?::(\d{1,5}))?$/.exec(part.trim());
  if (!match) return undefined;
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (!(port >= 1 && port <= 65_535)) return undefined;
  return { host: match[1] ?? match[2]!, port };
}
