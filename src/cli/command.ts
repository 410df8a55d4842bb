import type { Env } from '../config/env.js';
import type { Logger } from '../core/logger.js';

/** What every command receives from the CLI entry. */
export interface CommandContext {
  /** Parses the environment on first use: commands that need no service never fail on it. */
  env(): Env;
  logger: Logger;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop gracefully. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  /** One line for `mvfleet help`. */
  summary: string;
  /** Usage line(s), without the leading `mvfleet`. */
  usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: string[], context: CommandContext): Promise<number>;
}
