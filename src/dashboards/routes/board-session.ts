import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { BOARD_SESSION_COOKIE, requireToken, type TokenCheck } from '../auth.js';

/**
 * `POST /session` (bearer token) sets the cookie that unlocks Bull Board's actions for this
 * browser; `DELETE /session` removes it. Bull Board's UI makes its own API calls and cannot
 * be taught to send a bearer header, so a browser session is the only way to authorise them.
 */
export function boardSessionRoutes(tokenCheck: TokenCheck): Hono {
  const app = new Hono();
  app.post('/session', requireToken(tokenCheck, { cookie: false }), (c) => {
    setCookie(c, BOARD_SESSION_COOKIE, tokenCheck.sessionValue ?? '', {
      path: '/',
      httpOnly: true,
      sameSite: 'Strict',
      // Behind a TLS-terminating proxy the request reaches us as http; trust its forwarded scheme.
      secure: new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https',
      maxAge: 12 * 3_600,
    });
    return c.json({ board: 'unlocked' });
  });
  app.delete('/session', (c) => {
    deleteCookie(c, BOARD_SESSION_COOKIE, { path: '/' });
    return c.json({ board: 'locked' });
  });
  return app;
}
