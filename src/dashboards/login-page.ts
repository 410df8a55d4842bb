import { html, trusted } from './html.js';

/**
 * Script of the sign-in page: asks for the token, exchanges it for a session cookie
 * (`POST /api/session`), keeps it for the page's refresh buttons, and reloads.
 */
export const LOGIN_SCRIPT = `
(() => {
  const status = document.getElementById('status');
  const say = (text, error) => { status.textContent = text; status.className = error ? 'err' : ''; };
  document.getElementById('sign-in').addEventListener('click', async () => {
    const token = window.prompt('Dashboard token (MVFLEET_DASHBOARD_TOKEN):');
    if (!token) { say('Cancelled: no token entered, still signed out.', true); return; }
    const res = await fetch('/api/session', { method: 'POST', headers: { 'X-Mvfleet-Token': token } });
    if (res.ok) { sessionStorage.setItem('mvfleet-dashboard-token', token); location.reload(); return; }
    const body = await res.json().catch(() => ({}));
    say('Refused (' + res.status + '): ' + (body.error || res.statusText), true);
  });
})();
`;

/** The page a browser gets instead of the dashboard when reads need the token. */
export function renderLoginPage(options: { configured: boolean }): string {
  const body = options.configured
    ? html`<p>This dashboard needs its token to be viewed.</p><p><button id="sign-in">Sign in with the token</button></p><p id="status" role="status"></p>`
    : html`<p>This dashboard needs a token to be viewed, and none is configured: set MVFLEET_DASHBOARD_TOKEN (16+ characters) and restart it.</p><p id="status"></p>`;
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>mvfleet · sign in</title><style>body { font: 15px/1.5 system-ui, sans-serif; margin: 15vh auto; max-width: 32rem; padding: 0 1rem; color: #111827; }
button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid #1f4e79; background: #1f4e79; color: #fff; cursor: pointer; } .err { color: #c62828; }</style></head>
<body><h1>mvfleet</h1>${body}<script>${trusted(LOGIN_SCRIPT)}</script></body></html>`}`;
}
