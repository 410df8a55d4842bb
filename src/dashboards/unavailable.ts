import { oneLine } from '../core/errors.js';
import { HttpError } from './http-error.js';

/** What {@link UnavailableError} says. */
export interface Unavailable {
  /** `PostgreSQL is unreachable`: names no host, port or path. */
  summary: string;
  /**
   * The summary for the token's holders, e.g. with the queue's address.
   * @defaultValue `summary`
   */
  detailedSummary?: string;
  /** What failed; its message names hosts, ports and sometimes paths. */
  cause: unknown;
  /**
   * What became of the request (`nothing was recorded`), appended after a `;`.
   * @defaultValue nothing
   */
  outcome?: string;
  /**
   * For pages: what the outage means for them, and when they show data again.
   * @defaultValue the summary's outcome, or nothing
   */
  explanation?: string;
  /**
   * Further fields of the JSON answer (which queue, what was recorded).
   * @defaultValue none
   */
  fields?: Readonly<Record<string, unknown>>;
}

/** Said in place of the cause to viewers without the token. */
export const CAUSE_IN_LOG = 'the cause is in the dashboard log';

/**
 * A 503 for a datastore that did not answer. Its cause names hosts, ports and sometimes
 * paths, so it has two messages: `message` for anyone, `detailed` (with the cause, on one
 * line) for the token's holders; the log gets the error itself.
 */
export class UnavailableError extends HttpError {
  readonly summary: string;
  readonly detailed: string;
  readonly causeLine: string;
  readonly explanation: string;
  readonly fields: Readonly<Record<string, unknown>>;

  constructor(what: Unavailable) {
    const outcome = what.outcome ? `; ${what.outcome}` : '';
    super(503, `${what.summary} (${CAUSE_IN_LOG})${outcome}`, { cause: what.cause });
    this.name = 'UnavailableError';
    this.summary = what.summary;
    this.causeLine = oneLine(what.cause);
    this.detailed = `${what.detailedSummary ?? what.summary}: ${this.causeLine}${outcome}`;
    this.explanation = what.explanation ?? what.outcome ?? '';
    this.fields = what.fields ?? {};
  }

  /** The message a caller gets: the cause only with the token. */
  messageFor(authenticated: boolean): string {
    return authenticated ? this.detailed : this.message;
  }
}

/** `PostgreSQL is unreachable`, for a query that failed because the connection did. */
export function postgresUnreachable(cause: unknown, outcome?: string, fields?: Unavailable['fields']): UnavailableError {
  return new UnavailableError({
    summary: 'PostgreSQL is unreachable',
    cause,
    ...(outcome ? { outcome } : {}),
    ...(fields ? { fields } : {}),
    explanation: 'The freshness data lives in PostgreSQL, so none can be shown now. This page reloads itself and shows the data again once PostgreSQL answers.',
  });
}
