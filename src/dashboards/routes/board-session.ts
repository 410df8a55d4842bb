import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { BOARD_SESSION_COOKIE, credentialsOf, requireToken, sessionCookie, type TokenCheck } from '../auth.js';

/**
 * `POST /session` (bearer token) starts a browser session: a random id the dashboard
 * remembers until it expires or `DELETE /session` ends it. Bull Board's UI makes its own API
 * calls and cannot be taught to send a bearer header, and a page cannot be loaded with one,
 * so a session cookie is the only way a browser is authorised.
 */
export function boardSessionRoutes(tokenCheck: TokenCheck): Hono {
  const app = new Hono();
  app.post('/session', requireToken(tokenCheck, { cookie: false }), (c) => {
    const { id, expiresAt } = tokenCheck.sessions.create();
    setCookie(c, BOARD_SESSION_COOKIE, id, {
      path: '/',
      httpOnly: true,
      sameSite: 'Strict',
      // Behind a TLS-terminating proxy the request reaches us as http; trust its forwarded scheme.
      secure: new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https',
      maxAge: Math.max(1, Math.floor((expiresAt - Date.now()) / 1_000)),
    });
    return c.json({ board: 'unlocked', expires_at: new Date(expiresAt).toISOString() });
  });
  app.delete('/session', (c) => {
    const session = sessionCookie(credentialsOf(c));
    // Revoked on the server: a copy of the cookie taken before logout is refused from now on.
    if (session !== undefined) tokenCheck.sessions.revoke(session);
    deleteCookie(c, BOARD_SESSION_COOKIE, { path: '/' });
    return c.json({ board: 'locked' });
  });
  return app;
}
