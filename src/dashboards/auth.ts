import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { parse as parseCookies } from 'hono/utils/cookie';

/** Whether a write may proceed; a refusal carries the status and message the API answers with. */
export type AuthDecision = { ok: true } | { ok: false; status: 401 | 403; error: string };

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

/** Header the freshness page sends its token in. */
export const TOKEN_HEADER = 'x-mvfleet-token';

/** Cookie that lets the Bull Board UI (which cannot send a bearer header) perform actions. */
export const BOARD_SESSION_COOKIE = 'mvfleet_board_session';

/** Checks a bearer token (and optionally the board session cookie) against the configured dashboard token. */
export interface TokenCheck {
  /** Whether writes can be enabled at all. */
  readonly configured: boolean;
  /** `cookie: false` accepts the bearer header only. */
  decide(credentials: Credentials, options: { cookie: boolean }): AuthDecision;
  /** Value of the board session cookie for this token; `undefined` when no token is configured. */
  readonly sessionValue: string | undefined;
}

const NOT_CONFIGURED =
  'writes are disabled: set MVFLEET_DASHBOARD_TOKEN (16+ characters) and restart the dashboard to enable them';

// Hashing both sides first gives equal-length buffers, so timingSafeEqual never throws and
// the comparison time depends neither on where the strings differ nor on their lengths.
const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
const equal = (given: string, expected: Buffer) => timingSafeEqual(digest(given), expected);

/** Creates the token check; `token` undefined means every write is refused with 403. */
export function createTokenCheck(token: string | undefined): TokenCheck {
  const expected = token === undefined ? undefined : digest(token);
  // The cookie carries a MAC of the token, never the token itself.
  const sessionValue = token === undefined ? undefined : createHmac('sha256', token).update('mvfleet board session').digest('hex');
  const expectedSession = sessionValue === undefined ? undefined : digest(sessionValue);

  return {
    configured: expected !== undefined,
    sessionValue,
    decide(credentials, options) {
      if (!expected || !expectedSession) return { ok: false, status: 403, error: NOT_CONFIGURED };
      // Only a Bearer scheme is ours: a proxy's `Authorization: Basic …` must not shadow the cookie.
      const isBearer = credentials.authorization !== undefined && /^Bearer\b/i.test(credentials.authorization);
      const bearer = isBearer ? /^Bearer\s+(\S+)\s*$/i.exec(credentials.authorization!)?.[1] : undefined;
      const given = credentials.token ?? bearer;
      if (given !== undefined || isBearer) {
        if (given === undefined || !equal(given, expected)) return { ok: false, status: 401, error: 'invalid bearer token' };
        return { ok: true };
      }
      const session = options.cookie && credentials.cookie ? parseCookies(credentials.cookie, BOARD_SESSION_COOKIE)[BOARD_SESSION_COOKIE] : undefined;
      if (session === undefined) {
        return { ok: false, status: 401, error: 'missing bearer token: send Authorization: Bearer <MVFLEET_DASHBOARD_TOKEN>' };
      }
      // Browsers attach cookies to some cross-site requests; SameSite=Strict plus this check keep
      // another site from acting with the session (CSRF). Sec-Fetch-Site is authoritative where sent.
      if (isCrossSite(credentials)) return { ok: false, status: 401, error: 'cross-origin request refused' };
      if (!equal(session, expectedSession)) return { ok: false, status: 401, error: 'invalid or outdated board session' };
      return { ok: true };
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

/** Middleware refusing the request with 401/403 JSON unless the token check allows it. */
export function requireToken(check: TokenCheck, options: { cookie: boolean }): MiddlewareHandler {
  return async (c, next) => {
    const decision = check.decide(
      {
        authorization: c.req.header('authorization'),
        token: c.req.header(TOKEN_HEADER),
        cookie: c.req.header('cookie'),
        origin: c.req.header('origin'),
        fetchSite: c.req.header('sec-fetch-site'),
        host: c.req.header('host'),
      },
      options,
    );
    if (!decision.ok) {
      if (decision.status === 401) c.header('WWW-Authenticate', 'Bearer realm="mvfleet"');
      return c.json({ error: decision.error }, decision.status);
    }
    await next();
  };
}
