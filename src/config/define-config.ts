import type { Hono } from 'hono';
import type { Catalog, EventDefinition, ViewDefinition } from '../catalog/catalog.js';
import type { DbHandle } from '../core/db.js';
import type { QueueBackend } from '../queue/queue-backend.js';
import type { Env } from './env.js';
import type { Logger } from '../core/logger.js';
import type { Reader } from '../reads/reader.js';

/** What an app's extra dashboard routes receive. */
export interface DashboardRouteContext {
  /** A reader on the dashboard's connection, counted in its `/metrics`. */
  reader: Reader;
  logger: Logger;
}

/**
 * The contents of `mvfleet.config.ts`: what belongs in code. Secrets and addresses
 * (`DATABASE_URL`, `REDIS_URL`, the dashboard token…) stay in the environment.
 */
export interface MvfleetConfig {
  /** The views mvfleet keeps fresh: Drizzle materialized views, or tables for keyed views. */
  views: readonly ViewDefinition[];
  /**
   * Application events by name, each with the zod schema of its payload.
   * @defaultValue {}
   */
  events?: Readonly<Record<string, EventDefinition>>;
  /**
   * Schema that holds mvfleet's own tables (refresh log, dirty keys, table state, journal).
   * @defaultValue 'mvfleet'
   */
  schema?: string;
  /**
   * The app's drizzle-kit migrations folder (relative to this file), applied by
   * `mvfleet migrate` after mvfleet's own. Unset: mvfleet applies none of the app's
   * migrations and only guarantees the catalog's views and indexes.
   * @defaultValue undefined
   */
  migrations?: string;
  worker?: {
    /**
     * Refreshes one `mvfleet worker` process runs at once (`--concurrency` overrides).
     * @defaultValue 2
     */
    concurrency?: number;
  };
  dashboard?: {
    /**
     * Adds the app's own routes to the dashboard (e.g. read endpoints that serve views
     * through the reader). Write routes must check a token themselves.
     * @defaultValue none
     */
    routes?: (app: Hono, context: DashboardRouteContext) => void;
    /**
     * Host names the dashboard answers to (the `Host` header; `*.example.com` for subdomains,
     * `*` for any). `MVFLEET_DASHBOARD_ALLOWED_HOSTS` replaces this list.
     * @defaultValue `localhost`, `127.0.0.1`, `::1` and the `--host` address unless it is 0.0.0.0 or ::
     */
    allowedHosts?: readonly string[];
    /**
     * Whether reading the page, the API, Bull Board and `/metrics` needs the token too.
     * @defaultValue true when the dashboard listens on an address other than loopback, else false
     */
    requireTokenForReads?: boolean;
  };
  /**
   * Extra CLI commands, listed by `mvfleet help` (the repository's example adds `seed` and
   * `demo`). A name already taken by a built-in command is an error.
   * @defaultValue []
   */
  commands?: readonly Command[];
}

/** Types a config file's default export; returns it unchanged (validation happens on load). */
export function defineConfig(config: MvfleetConfig): MvfleetConfig {
  return config;
}

/** A config file, loaded and validated (`loadConfig`). */
export interface LoadedConfig {
  /** Absolute path of the file. */
  path: string;
  config: MvfleetConfig;
  catalog: Catalog;
  /** Absolute path of the app's migrations folder, when the config names one. */
  migrationsFolder: string | undefined;
}

/** What every command receives from the CLI entry. */
export interface CommandContext {
  /** Parses the environment on first use: commands that need no service never fail on it. */
  env(): Env;
  /**
   * Loads the config file on first use (`--config`, `MVFLEET_CONFIG`, or
   * `mvfleet.config.*` in the working directory); rejects naming the files looked for.
   */
  config(): Promise<LoadedConfig>;
  /** Connects to `DATABASE_URL`, failing fast with host and port when it cannot be reached. */
  connectDatabase(applicationName?: string, options?: { max?: number }): Promise<DbHandle>;
  /** The queue the environment selects (Redis at `REDIS_URL`, else PostgreSQL), checked to answer. */
  connectQueue(role: 'worker' | 'producer'): Promise<QueueBackend>;
  logger: Logger;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop gracefully. */
  signal: AbortSignal;
}

/** A CLI command: the built-in ones, and those a config adds (`commands`). */
export interface Command {
  name: string;
  /** One line for `mvfleet help`. */
  summary: string;
  /** Usage line(s), without the leading `mvfleet`. */
  usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: string[], context: CommandContext): Promise<number>;
}
