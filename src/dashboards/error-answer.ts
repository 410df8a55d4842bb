import type { Context } from 'hono';
import { oneLine } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { isAuthenticated } from './access.js';
import { renderErrorPage, type ErrorPageModel } from './error-page.js';
import { HttpError } from './http-error.js';
import { UnavailableError } from './unavailable.js';

/** What {@link answerError} needs. */
export interface ErrorAnswerOptions {
  logger: Logger;
  /**
   * Answer with the HTML error page instead of JSON (the routes that serve pages, to clients
   * that accept HTML: see {@link wantsHtml}), and what it shows beside the error.
   * @defaultValue JSON `{ error }`
   */
  page?: Pick<ErrorPageModel, 'queue'> | undefined;
}

/**
 * Whether a page's error goes out as the HTML error page: yes for browsers (and clients that
 * accept anything), no for a script that asks for JSON only.
 */
export function wantsHtml(c: Context): boolean {
  const accept = c.req.header('Accept') ?? '';
  return accept.includes('text/html') || !accept.includes('application/json');
}

/**
 * How the dashboard answers a failed request. An `HttpError` keeps its status and message; a
 * datastore that did not answer is a 503 and a warning; anything else is a 500 and an error in
 * the log. Causes name files, hosts and ports: only the token's holders get them in the answer.
 */
export function answerError(c: Context, error: unknown, options: ErrorAnswerOptions): Response {
  const authenticated = isAuthenticated(c);
  const where = { method: c.req.method, path: c.req.path };
  let status: HttpError['status'];
  let message: string;
  let page: Omit<ErrorPageModel, 'now' | 'queue'>;
  let fields: Readonly<Record<string, unknown>> = {};
  if (error instanceof UnavailableError) {
    options.logger.warn({ err: error.cause ?? error, ...where }, error.summary);
    status = error.status;
    message = error.messageFor(authenticated);
    fields = error.fields;
    page = { headline: error.summary, explanation: error.explanation, cause: authenticated ? error.causeLine : null };
  } else if (error instanceof HttpError) {
    status = error.status;
    message = error.message;
    page = { headline: 'The freshness data could not be loaded', explanation: `${error.message}. This page reloads itself.`, cause: null };
  } else {
    options.logger.error({ err: error, ...where }, 'dashboard request failed');
    status = 500;
    message = authenticated ? `internal error: ${oneLine(error)}` : 'internal error (details in the dashboard log)';
    page = {
      headline: 'The dashboard failed to load this page',
      explanation: 'An internal error stopped it; details are in the dashboard log. This page reloads itself.',
      cause: authenticated ? oneLine(error) : null,
    };
  }
  if (options.page && wantsHtml(c)) {
    c.header('Cache-Control', 'no-store');
    return c.html(renderErrorPage({ now: new Date(), ...page, queue: options.page.queue }), status);
  }
  return c.json({ error: message, ...fields }, status);
}
