import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { parse as parseCookies } from 'hono/utils/cookie';
import type { SessionStore } from './board-sessions.js';

/**
 * Whether a request may proceed. A refusal carries the status and message the API answers
 * with, and why: only a `wrong` token counts towards a lockout.
 */
export type AuthDecision =
  | { ok: true; via: 'token' | 'session' }
  | { ok: false; status: 401 | 403; error: string; reason: 'not-configured' | 'missing' | 'wrong' | 'cross-site' | 'session' };

/** The request headers a decision depends on. */
export interface Credentials {
  authorization?: string | undefined;
  /** `X-Mvfleet-Token`: the token without taking over `Authorization` (a proxy's Basic auth keeps working). */
  token?: string | undefined;
  cookie?: string | undefined;
  origin?: string | undefined;
  /** `Sec-Fetch-Site` as sent by browsers. */
  fetchSite?: string | undefined;
  /** `Host` the request was addressed to; compared with the Origin's host (not its scheme: TLS may end at a proxy). */
  host?: string | undefined;
}

/** What a decision accepts besides the bearer header. */
export interface DecideOptions {
  /** Whether the board session cookie counts. */
  cookie: boolean;
  /**
   * Refuse the cookie on cross-site requests. Writes need this (CSRF); reads do not, and a
   * URL typed into the address bar arrives with `Sec-Fetch-Site: none`.
   * @defaultValue true
   */
  sameSiteOnly?: boolean;
}

/** Header the freshness page sends its token in. */
export const TOKEN_HEADER = 'x-mvfleet-token';

/** Cookie that lets browsers (Bull Board's UI cannot send a bearer header) act and read with a session. */
export const BOARD_SESSION_COOKIE = 'mvfleet_board_session';

/** Checks a bearer token or a session cookie against the configured dashboard token. */
export interface TokenCheck {
  /** Whether writes can be enabled at all. */
  readonly configured: boolean;
  decide(credentials: Credentials, options: DecideOptions): AuthDecision;
  /** Sessions the cookie names; started by `POST /api/session` once the token was checked. */
  readonly sessions: SessionStore;
}

const NOT_CONFIGURED =
  'writes are disabled: set MVFLEET_DASHBOARD_TOKEN (16+ characters) and restart the dashboard to enable them';

// Hashing both sides first gives equal-length buffers, so timingSafeEqual never throws and
// the comparison time depends neither on where the strings differ nor on their lengths.
const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
const equal = (given: string, expected: Buffer) => timingSafeEqual(digest(given), expected);

/** The token the request presents in a header (`X-Mvfleet-Token`, or `Authorization: Bearer`), if any. */
export function presentedToken(credentials: Credentials): { presented: boolean; token: string | undefined } {
  // Only a Bearer scheme is ours: a proxy's `Authorization: Basic …` must not shadow the cookie.
  const isBearer = credentials.authorization !== undefined && /^Bearer\b/i.test(credentials.authorization);
  const bearer = isBearer ? /^Bearer\s+(\S+)\s*$/i.exec(credentials.authorization!)?.[1] : undefined;
  const token = credentials.token ?? bearer;
  return { presented: token !== undefined || isBearer, token };
}

/** The session id the request's cookie carries, if any. */
export function sessionCookie(credentials: Credentials): string | undefined {
  return credentials.cookie ? parseCookies(credentials.cookie, BOARD_SESSION_COOKIE)[BOARD_SESSION_COOKIE] : undefined;
}

/** Creates the token check; `token` undefined means every write is refused with 403. */
export function createTokenCheck(token: string | undefined, sessions: SessionStore): TokenCheck {
  const expected = token === undefined ? undefined : digest(token);

  return {
    configured: expected !== undefined,
    sessions,
    decide(credentials, options) {
      if (!expected) return { ok: false, status: 403, error: NOT_CONFIGURED, reason: 'not-configured' };
      const given = presentedToken(credentials);
      if (given.presented) {
        if (given.token === undefined || !equal(given.token, expected)) return { ok: false, status: 401, error: 'invalid bearer token', reason: 'wrong' };
        return { ok: true, via: 'token' };
      }
      const session = options.cookie ? sessionCookie(credentials) : undefined;
      if (session === undefined) {
        return { ok: false, status: 401, error: 'missing bearer token: send Authorization: Bearer <MVFLEET_DASHBOARD_TOKEN>', reason: 'missing' };
      }
      // Browsers attach cookies to some cross-site requests; SameSite=Strict plus this check keep
      // another site from acting with the session (CSRF). Sec-Fetch-Site is authoritative where sent.
      if ((options.sameSiteOnly ?? true) && isCrossSite(credentials)) {
        return { ok: false, status: 401, error: 'cross-origin request refused', reason: 'cross-site' };
      }
      if (!sessions.valid(session)) return { ok: false, status: 401, error: 'session expired or logged out: unlock again with the token', reason: 'session' };
      return { ok: true, via: 'session' };
    },
  };
}

function isCrossSite({ fetchSite, origin, host }: Credentials): boolean {
  if (fetchSite !== undefined) return fetchSite !== 'same-origin';
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

/** The credentials of a Hono request. */
export function credentialsOf(c: Context): Credentials {
  return credentialsFromHeaders((name) => c.req.header(name));
}

/** The credentials in a header lookup (Bull Board's hooks see plain header records). */
export function credentialsFromHeaders(header: (name: string) => string | undefined): Credentials {
  return {
    authorization: header('authorization'),
    token: header(TOKEN_HEADER),
    cookie: header('cookie'),
    origin: header('origin'),
    fetchSite: header('sec-fetch-site'),
    host: header('host'),
  };
}

/** Middleware refusing the request with 401/403 JSON unless the token check allows it. */
export function requireToken(check: TokenCheck, options: DecideOptions): MiddlewareHandler {
  return async (c, next) => {
    const decision = check.decide(credentialsOf(c), options);
    if (!decision.ok) {
      if (decision.status === 401) c.header('WWW-Authenticate', 'Bearer realm="mvfleet"');
      return c.json({ error: decision.error }, decision.status);
    }
    await next();
  };
}
