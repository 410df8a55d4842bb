import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie } from 'hono/cookie';
import { BOARD_SESSION_COOKIE, credentialsOf, presentedToken, type TokenCheck } from './auth.js';
import type { AuthThrottle } from './auth-throttle.js';
import { renderLoginPage } from './login-page.js';

/** What {@link accessGate} needs. */
export interface AccessGateDeps {
  tokenCheck: TokenCheck;
  throttle: AuthThrottle;
  /** Whether reads need the token too; asked per request, since `listen()` may turn it on. */
  readsNeedToken: () => boolean;
  /** Paths anyone may request: health probes, and the session endpoints (which check the token themselves). */
  open: ReadonlySet<string>;
}

const authenticated = new WeakMap<Context, boolean>();

/** Whether the request carried the token or a live session (set by {@link accessGate}). */
export function isAuthenticated(c: Context): boolean {
  return authenticated.get(c) ?? false;
}

/**
 * The client's address as the socket sees it. Behind a reverse proxy that is the proxy, so
 * a lockout then applies to everyone behind it: forwarded headers are not trusted, since any
 * client could send them.
 */
function clientAddress(c: Context): string {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/**
 * Runs before every route. A client locked out for wrong tokens gets 429 with Retry-After
 * whenever it sends a token again (the right one included: otherwise guessing would simply
 * continue). Each wrong token counts; stale session cookies do not (a session id cannot be
 * guessed, and a browser left open would lock its own user out) and are cleared instead.
 * When reads need the token, every path but the open ones answers 401 (a sign-in page for
 * `GET /`) without the token or a session.
 */
export function accessGate({ tokenCheck, throttle, readsNeedToken, open }: AccessGateDeps): MiddlewareHandler {
  return async (c, next) => {
    const credentials = credentialsOf(c);
    const client = clientAddress(c);
    if (tokenCheck.configured && presentedToken(credentials).presented) {
      const wait = throttle.retryAfterSeconds(client);
      if (wait > 0) {
        c.header('Retry-After', String(wait));
        return c.json({ error: `too many wrong tokens from this address: try again in ${wait} s` }, 429);
      }
    }
    const decision = tokenCheck.decide(credentials, { cookie: true, sameSiteOnly: false });
    if (!decision.ok && decision.reason === 'wrong') throttle.fail(client);
    if (!decision.ok && decision.reason === 'session') deleteCookie(c, BOARD_SESSION_COOKIE, { path: '/' });
    authenticated.set(c, decision.ok);
    if (decision.ok || open.has(c.req.path) || !readsNeedToken()) return next();

    if (decision.status === 401) c.header('WWW-Authenticate', 'Bearer realm="mvfleet"');
    if (c.req.method === 'GET' && c.req.path === '/') {
      c.header('Cache-Control', 'no-store');
      return c.html(renderLoginPage({ configured: tokenCheck.configured }), decision.status);
    }
    const error =
      decision.reason === 'not-configured'
        ? 'this dashboard needs its token for reads too, and none is configured: set MVFLEET_DASHBOARD_TOKEN (16+ characters)'
        : `reads need the token: ${decision.error}`;
    return c.json({ error }, decision.status);
  };
}
