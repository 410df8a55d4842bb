import type { Env } from '../config/env.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { DbHandle } from '../core/db.js';
import type { Logger } from '../core/logger.js';
import type { QueueBackend } from '../queue/queue-backend.js';

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
