/**
 * Failures of the connection to PostgreSQL rather than of a statement: postgres.js's own codes
 * and the socket errors Node reports. `ENOTFOUND` is left out on purpose: a misspelt host would
 * otherwise be waited on forever (workers) or reported as an outage (dashboard) instead of failing.
 */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/** admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections (and class 08, connection exception). */
const CONNECTION_SQLSTATES: ReadonlySet<string> = new Set(['57P01', '57P02', '57P03', '53300']);

/** Whether an error `code` says the connection failed (see {@link CONNECTION_CODES}). */
export function isConnectionFailureCode(code: string): boolean {
  return CONNECTION_CODES.has(code) || CONNECTION_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code);
}

/**
 * An error, then its `cause` chain and the errors of an `AggregateError` (a refused connection
 * to a host with several addresses), breadth first, each once.
 */
export function* errorChain(error: unknown): Generator<{ code?: unknown; message?: unknown }> {
  const seen = new Set<unknown>();
  const pending = [error];
  while (pending.length > 0) {
    const current = pending.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const { cause, errors } = current as { cause?: unknown; errors?: unknown };
    yield current as { code?: unknown; message?: unknown };
    pending.push(cause);
    if (Array.isArray(errors)) pending.push(...(errors as unknown[]));
  }
}

/** Whether PostgreSQL could not be reached (or dropped the connection), anywhere in the error's chain. */
export function isConnectionFailure(error: unknown): boolean {
  for (const link of errorChain(error)) {
    if (typeof link.code === 'string' && isConnectionFailureCode(link.code)) return true;
  }
  return false;
}
