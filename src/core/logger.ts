import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /**
   * Minimum level written.
   * @defaultValue 'info'
   */
  level?: LevelWithSilent;
  /**
   * Destination file descriptor. Logs go to stderr so command output on stdout stays parseable.
   * @defaultValue 2
   */
  fd?: number;
}

const loggerDefaults = { level: 'info', fd: 2 } satisfies Required<LoggerOptions>;

/** Creates the process's one pino logger; pass it down and use `.child({ view, jobId })`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const { level, fd } = { ...loggerDefaults, ...options };
  return pino({ level, base: { pid: process.pid } }, pino.destination({ fd, sync: true }));
}

/** A logger that writes nothing (tests, library defaults). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
