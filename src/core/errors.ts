/**
 * Errors mvfleet raises on purpose. Each carries a message meant for a human on one line;
 * the CLI prints `message` and exits with `exitCode`.
 */
export class MvfleetError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command-line input or option values: nothing was changed. */
export class UsageError extends MvfleetError {
  override readonly exitCode = 2;
}

/** The environment, the config file or a factory's options object is invalid; lists every problem. */
export class ConfigError extends MvfleetError {
  override readonly exitCode = 2;
}

/** A backing service (PostgreSQL, Redis) could not be reached. */
export class ConnectionError extends MvfleetError {
  override readonly exitCode = 3;
}

/** Normalises anything thrown into an `Error`, keeping the original as `cause`. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value), { cause: value });
}

/** The SQLSTATE PostgreSQL answered with, or null for errors that did not come from it. */
export function sqlStateOf(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

/** One line describing an error, for CLI output and log rows. */
export function oneLine(value: unknown): string {
  const message = toError(value).message || String(value);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
