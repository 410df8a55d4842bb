import postgres, { type Sql } from 'postgres';
import { ConnectionError, oneLine } from './errors.js';

export type { Sql };
/** Anything that runs queries: the pool, a transaction or a reserved connection. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- postgres.js's own default type parameter
export type Queryable = postgres.ISql<{}>;

/** Options for {@link createDb}. */
export interface DbOptions {
  /** PostgreSQL connection URL (`postgres://user@host:port/db`). */
  url: string;
  /**
   * Pool size.
   * @defaultValue 5
   */
  max?: number;
  /**
   * Seconds to wait for a connection before failing with a clear error.
   * @defaultValue 10
   */
  connectTimeoutSeconds?: number;
  /**
   * `application_name` reported to PostgreSQL (visible in `pg_stat_activity`).
   * @defaultValue 'mvfleet'
   */
  applicationName?: string;
}

const dbDefaults = { max: 5, connectTimeoutSeconds: 10, applicationName: 'mvfleet' } satisfies Omit<
  Required<DbOptions>,
  'url'
>;

/**
 * A postgres.js pool. Not wrapped in Drizzle: drizzle-orm's postgres-js driver replaces the
 * client's date parsers (timestamps come back as strings), which would change every raw query.
 */
export interface DbHandle extends AsyncDisposable {
  /** postgres.js tagged-template client. */
  sql: Sql;
  /** Host and port, for messages. */
  target: string;
  /** Fails with a {@link ConnectionError} naming host and port when PostgreSQL cannot be reached. */
  ping(): Promise<void>;
  /** Closes the pool, waiting up to `timeoutSeconds` for queries in flight. */
  close(timeoutSeconds?: number): Promise<void>;
}

/** Describes a connection URL as `host:port/database` without credentials. */
export function describeTarget(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname}`;
}

/** Creates a pool; it connects lazily, so call `ping()` to fail fast on a bad URL. */
export function createDb(options: DbOptions): DbHandle {
  const { url, max, connectTimeoutSeconds, applicationName } = { ...dbDefaults, ...options };
  const target = describeTarget(url);
  const sql = postgres(url, {
    max,
    connect_timeout: connectTimeoutSeconds,
    onnotice: () => {},
    // int8 (ids, counts, rows_after) as JS numbers: exact up to 2^53, and JSON-serialisable.
    types: {
      bigint: { to: 20, from: [20], serialize: (value: number) => String(value), parse: (value: string) => Number(value) },
    },
    connection: { application_name: applicationName },
  });
  let closed: Promise<void> | undefined;
  const close = (timeoutSeconds = 5) => (closed ??= sql.end({ timeout: timeoutSeconds }));
  return {
    sql,
    target,
    async ping() {
      try {
        await sql`select 1`;
      } catch (error) {
        throw new ConnectionError(`cannot reach PostgreSQL at ${target}: ${describeConnectError(error)}`, {
          cause: error,
        });
      }
    },
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}

function describeConnectError(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the server running?)';
  if (code === 'ENOTFOUND') return 'host not found';
  if (code === 'CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return 'timed out';
  return oneLine(error);
}
