import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createDashboard } from '../src/dashboards/index.js';
import { TEST_TOKEN, getJson, useDashboardFixture } from './dashboard.fixture.js';
import { rawRequest } from './dashboard.http-client.js';
import { waitUntil } from './helpers/wait.js';

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const WRONG = 'wrong-token-0123456789abcdef';
const VIEW = 'mv_budget_consolidation';

/** Requests nothing should be stored or enqueued by: pending requests and jobs of any state. */
async function storedRequests(fixture: ReturnType<typeof useDashboardFixture>): Promise<number> {
  const [{ count }] = await fixture.db.sql<[{ count: number }]>`SELECT count(*)::int AS count FROM mvfleet.mv_pending_requests`;
  return count + (await fixture.jobCount());
}

/** The session cookie (`name=value`) a successful `POST /api/session` sets. */
async function signIn(url: string): Promise<string> {
  const response = await fetch(`${url}/api/session`, { method: 'POST', headers: bearer(TEST_TOKEN) });
  expect(response.status).toBe(200);
  return response.headers.get('set-cookie')!.split(';')[0]!;
}

/** A dashboard put behind a proxy: headers, Host names, body limits, lockouts, sessions, read access, what anonymous viewers see. */
describe('dashboard exposure', () => {
  const fixture = useDashboardFixture();

  it('sets the security headers on the page, the API, Bull Board (page, assets, API) and refusals', async () => {
    const { url } = await fixture.start({ token: TEST_TOKEN });
    const board = await fetch(`${url}/queues`);
    const boardPage = await board.text();
    const stylesheet = /href="(static\/css\/[^"]+\.css)"/.exec(boardPage)?.[1];
    expect(stylesheet).toBeDefined();
    const paths: [string, RequestInit?][] = [
      ['/'],
      ['/api/views'],
      ['/api/stats'],
      ['/metrics'],
      ['/healthz'],
      ['/queues'],
      [`/queues/${stylesheet}`],
      ['/queues/api/queues'],
      ['/api/no-such-route'],
      ['/api/refresh-all', { method: 'POST', headers: bearer(WRONG) }],
    ];
    for (const [path, init] of paths) {
      const response = await fetch(`${url}${path}`, init);
      await response.arrayBuffer();
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toMatch(/script-src 'self'( 'sha256-[A-Za-z0-9+/=]+')+(;|$)/);
      expect(csp, path).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(response.headers.get('x-frame-options'), path).toBe('DENY');
      if (!path.endsWith('.css')) expect(response.headers.get('cache-control'), path).toBe('no-store');
    }

    // The page's one inline script is the one the policy names by hash.
    const page = await fetch(`${url}/`);
    const csp = page.headers.get('content-security-policy')!;
    const scripts = [...(await page.text()).matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => match[1]!);
    expect(scripts).toHaveLength(1);
    expect(csp).toContain(`'sha256-${createHash('sha256').update(scripts[0]!).digest('base64')}'`);
    // Bull Board's page is served without its web-font link; nothing points off the server.
    expect(boardPage).not.toMatch(/fonts\.googleapis|https?:\/\//);
  });

  it('refuses a Host it does not answer to (DNS rebinding) and answers loopback names and configured ones', async () => {
    const { url } = await fixture.start({ token: TEST_TOKEN });
    const { port } = new URL(url);
    for (const host of ['evil.example', `evil.example:${port}`, 'attacker.localtest.me', '127.0.0.1.nip.io']) {
      for (const path of ['/', '/api/views', '/queues/api/queues', '/metrics']) {
        const response = await rawRequest(`${url}${path}`, { headers: { Host: host } });
        expect(response.status, `${host} ${path}`).toBe(421);
        expect(response.headers['content-security-policy'], path).toContain("frame-ancestors 'none'");
      }
    }
    const refused = await rawRequest(`${url}/api/refresh-all`, { method: 'POST', headers: { Host: 'evil.example', ...bearer(TEST_TOKEN) } });
    expect(refused.status).toBe(421);
    expect(await storedRequests(fixture)).toBe(0);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost']) {
      expect((await rawRequest(`${url}/api/views`, { headers: { Host: host } })).status, host).toBe(200);
    }
    // Orchestrators probe health by the pod's address.
    expect((await rawRequest(`${url}/healthz`, { headers: { Host: '10.0.0.7:3000' } })).status).toBe(200);

    const { url: proxied } = await fixture.start({ token: TEST_TOKEN, allowedHosts: ['mvfleet.example.com', '*.ops.example.com'] });
    expect((await rawRequest(`${proxied}/api/views`, { headers: { Host: 'mvfleet.example.com' } })).status).toBe(200);
    expect((await rawRequest(`${proxied}/api/views`, { headers: { Host: 'eu.ops.example.com:443' } })).status).toBe(200);
    expect((await rawRequest(`${proxied}/api/views`, { headers: { Host: 'ops.example.com' } })).status).toBe(421);
    expect((await rawRequest(`${proxied}/api/views`, { headers: { Host: 'localhost' } })).status).toBe(421);
  });

  it('refuses oversized bodies with 413 and deeply nested JSON with 400 on every route, storing and enqueuing nothing', async () => {
    const { url } = await fixture.start({ token: TEST_TOKEN });
    const before = await storedRequests(fixture);
    const oversized = JSON.stringify({ name: 'big', data: { blob: 'x'.repeat(2 * 1024 * 1024) } });
    const nested = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const nestedObject = `{"name":"deep","data":${'{"a":'.repeat(1_000)}1${'}'.repeat(1_000)}}`;
    const writes = [
      ['POST', '/api/refresh-all'],
      ['POST', `/api/views/${VIEW}/refresh`],
      ['POST', '/queues/api/queues/refresh/add'],
      ['PUT', '/queues/api/queues/refresh/pause'],
      ['POST', '/api/session'],
    ] as const;
    for (const [method, path] of writes) {
      const headers = { ...bearer(TEST_TOKEN), 'Content-Type': 'application/json' };
      const declared = await rawRequest(`${url}${path}`, { method, headers, body: oversized });
      expect(declared.status, `${path} with Content-Length`).toBe(413);
      const chunked = await rawRequest(`${url}${path}`, { method, headers, body: oversized, chunked: true });
      expect(chunked.status, `${path} chunked`).toBe(413);
      const deep = await rawRequest(`${url}${path}`, { method, headers, body: nested });
      expect(deep.status, `${path} 100,000 levels`).toBe(400);
      expect(JSON.parse(deep.text)).toEqual({ error: 'request body nests deeper than 64 levels' });
      expect((await rawRequest(`${url}${path}`, { method, headers, body: nestedObject })).status, `${path} 1,000 objects`).toBe(400);
    }
    // A read with an oversized body is refused too (chunked, Node itself refuses a GET body).
    expect((await rawRequest(`${url}/api/views`, { method: 'GET', body: oversized })).status).toBe(413);
    expect([400, 413]).toContain((await rawRequest(`${url}/api/views`, { method: 'GET', body: oversized, chunked: true })).status);
    expect(await storedRequests(fixture)).toBe(before);
    expect(await fixture.queue.isPaused()).toBe(false);

    // A body within the limits still reaches Bull Board's handler (read from memory).
    const added = await fetch(`${url}/queues/api/queues/refresh/add`, {
      method: 'POST',
      headers: { ...bearer(TEST_TOKEN), 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'exposure-probe', data: { nested: [[[1]]] }, options: { delay: 3_600_000 } }),
    });
    expect(added.status).toBeLessThan(300);
    const [job] = await fixture.queue.getJobs(['delayed']);
    expect(job).toMatchObject({ name: 'exposure-probe', data: { nested: [[[1]]] } });
    await job!.remove();
  });

  it('locks out an address after repeated wrong tokens with 429 and Retry-After, the right token included, until the lockout ends', async () => {
    const { url } = await fixture.start({ token: TEST_TOKEN, maxWrongTokens: 3, lockoutMs: 2_000 });
    const wrongAttempts: [string, RequestInit][] = [
      ['/api/refresh-all', { method: 'POST', headers: bearer(WRONG) }],
      ['/api/session', { method: 'POST', headers: { 'X-Mvfleet-Token': WRONG } }],
      // Bull Board's read-only marker would otherwise tell a right guess from a wrong one.
      ['/queues/api/queues', { headers: bearer(WRONG) }],
    ];
    for (const [path, init] of wrongAttempts) {
      const response = await fetch(`${url}${path}`, init);
      expect(response.status, path).not.toBe(429);
    }
    for (const headers of [bearer(WRONG), bearer(TEST_TOKEN), { 'X-Mvfleet-Token': TEST_TOKEN }]) {
      const locked = await getJson<{ error: string }>(`${url}/api/session`, { method: 'POST', headers });
      expect(locked.status).toBe(429);
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(2);
      expect(locked.body.error).toMatch(/too many wrong tokens/);
    }
    expect((await fetch(`${url}/api/refresh-all`, { method: 'POST', headers: bearer(TEST_TOKEN) })).status).toBe(429);
    expect(await storedRequests(fixture)).toBe(0);
    // Requests without a token are not part of the guessing and still answer.
    expect((await fetch(`${url}/api/views`)).status).toBe(200);

    await delay(2_100);
    expect((await fetch(`${url}/api/session`, { method: 'POST', headers: bearer(TEST_TOKEN) })).status).toBe(200);
  });

  it('ends a session on logout and at its expiry: a cookie captured before either is refused', async () => {
    const { url } = await fixture.start({ token: TEST_TOKEN });
    const cookie = await signIn(url);
    // A random id, not derived from the token: two sign-ins get two sessions.
    expect(await signIn(url)).not.toBe(cookie);
    const pause = (sessionCookie: string) =>
      fetch(`${url}/queues/api/queues/refresh/pause`, { method: 'PUT', headers: { Cookie: sessionCookie, 'Sec-Fetch-Site': 'same-origin' } });
    expect((await pause(cookie)).status).toBeLessThan(300);
    expect(await fixture.queue.isPaused()).toBe(true);
    await fixture.queue.resume();

    const logout = await fetch(`${url}/api/session`, { method: 'DELETE', headers: { Cookie: cookie } });
    expect(logout.status).toBe(200);
    expect(logout.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    const replayed = await pause(cookie);
    expect(replayed.status).toBe(401);
    expect(((await replayed.json()) as { error: string }).error).toMatch(/session expired or logged out/);
    expect(await fixture.queue.isPaused()).toBe(false);
    const board = await getJson<{ queues: { readOnlyMode: boolean }[] }>(`${url}/queues/api/queues`, { headers: { Cookie: cookie } });
    expect(board.body.queues[0]!.readOnlyMode).toBe(true);

    const { url: shortLived } = await fixture.start({ token: TEST_TOKEN, sessionTtlMs: 1_000 });
    const expiring = await fetch(`${shortLived}/api/session`, { method: 'POST', headers: bearer(TEST_TOKEN) });
    expect(expiring.headers.get('set-cookie')).toMatch(/Max-Age=1\b/);
    const expiringCookie = expiring.headers.get('set-cookie')!.split(';')[0]!;
    await delay(1_100);
    const expired = await fetch(`${shortLived}/queues/api/queues/refresh/pause`, {
      method: 'PUT',
      headers: { Cookie: expiringCookie, 'Sec-Fetch-Site': 'same-origin' },
    });
    expect(expired.status).toBe(401);
    expect(await fixture.queue.isPaused()).toBe(false);
  });

  it('with requireTokenForReads, every read needs the token or a session; health probes stay open', async () => {
    const { url } = await fixture.start({ token: TEST_TOKEN, requireTokenForReads: true });
    for (const path of ['/api/views', `/api/views/${VIEW}/logs`, '/api/stats', '/metrics', '/queues', '/queues/api/queues', '/queues/api/redis/stats']) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(401);
      expect(await response.text(), path).not.toMatch(/mv_budget_consolidation|redis_version|"version"/);
    }
    const signInPage = await fetch(`${url}/`);
    expect(signInPage.status).toBe(401);
    const signInHtml = await signInPage.text();
    expect(signInHtml).toContain('Sign in with the token');
    expect(signInHtml).not.toContain('data-view=');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    for (const path of ['/', '/api/views', '/metrics', '/queues/api/queues']) {
      expect((await fetch(`${url}${path}`, { headers: bearer(TEST_TOKEN) })).status, path).toBe(200);
    }
    const cookie = await signIn(url);
    // A URL typed into the address bar arrives with Sec-Fetch-Site: none, and the session serves it.
    const page = await fetch(`${url}/`, { headers: { Cookie: cookie, 'Sec-Fetch-Site': 'none' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`data-view="${VIEW}"`);
    expect((await fetch(`${url}/queues/api/queues`, { headers: { Cookie: cookie } })).status).toBe(200);

    const { url: noToken } = await fixture.start({ requireTokenForReads: true });
    const refused = await getJson<{ error: string }>(`${noToken}/api/views`);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatch(/set MVFLEET_DASHBOARD_TOKEN/);
  });

  it('requires the token for reads by default once it listens on an address other than loopback', async () => {
    const dashboard = createDashboard({ sql: fixture.db.sql, catalog: fixture.catalog, queue: fixture.queue, token: TEST_TOKEN });
    try {
      const listener = await dashboard.listen(0, '0.0.0.0');
      const url = `http://127.0.0.1:${new URL(listener.url).port}`;
      expect((await fetch(`${url}/api/views`)).status).toBe(401);
      expect((await fetch(`${url}/api/views`, { headers: bearer(TEST_TOKEN) })).status).toBe(200);
      // Listening on every interface adds no name: a request by the machine's address is refused until allowed.
      expect((await rawRequest(`${url}/api/views`, { headers: { Host: `192.0.2.10:${new URL(url).port}`, ...bearer(TEST_TOKEN) } })).status).toBe(421);
    } finally {
      await dashboard.close();
    }
    const explicit = createDashboard({ sql: fixture.db.sql, catalog: fixture.catalog, queue: fixture.queue, requireTokenForReads: false, allowedHosts: ['*'] });
    try {
      const listener = await explicit.listen(0, '0.0.0.0');
      expect((await fetch(`http://127.0.0.1:${new URL(listener.url).port}/api/views`)).status).toBe(200);
    } finally {
      await explicit.close();
    }
  });

  it('shows viewers without the token no stack traces, file paths or server addresses; token holders see them', async () => {
    const secretPath = '/srv/mvfleet/releases/42/config/secret.ts';
    const failure = `connect ECONNREFUSED 10.1.2.3:6379 while reading ${secretPath}`;
    await fixture.db.sql`
      INSERT INTO mvfleet.mv_refresh_log (view_name, status, mode, reason, attempt, started_at, finished_at, duration_ms, error_message, error_code)
      VALUES (${VIEW}, 'failed', 'plain', 'schedule', 1, now() - interval '1 minute', now(), 100,
              ${`${failure}\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)\n    at ${secretPath}:10:5`}, '08006')`;
    // A failed job with a real stack trace, as a crashing worker leaves it.
    const backend = fixture.backends.backend();
    const worker = backend.worker(fixture.queue.name, async () => {
      throw new Error(failure);
    }, { concurrency: 1 });
    await fixture.queue.add('exposure-failing', { view: VIEW }, { attempts: 1 });
    await waitUntil('the job to fail', async () => ((await fixture.queue.getJobCounts('failed')).failed ?? 0) >= 1);
    await worker.close();

    const { url } = await fixture.start({
      token: TEST_TOKEN,
      extraRoutes: (app) =>
        app.get('/api/boom', () => {
          throw new Error(`cannot read ${process.cwd()}/node_modules/secret.js`);
        }),
    });
    const leaks = [secretPath, '10.1.2.3', process.cwd(), 'node_modules', 'afterConnect', '    at ', 'redis_version'];
    const anonymous = [
      '/',
      '/api/views',
      `/api/views/${VIEW}/logs`,
      '/api/stats',
      '/api/boom',
      '/readyz',
      '/queues/api/queues?activeQueue=refresh&status=failed&page=1&jobsPerPage=10',
      '/queues/api/redis/stats',
      '/queues/api/queues/refresh/workers',
    ];
    for (const path of anonymous) {
      const text = await (await fetch(`${url}${path}`)).text();
      for (const leak of leaks) expect(text, `${path} shows ${leak}`).not.toContain(leak);
    }
    const views = await getJson<{ view: string; last_error: string }[]>(`${url}/api/views`);
    expect(views.body.find((view) => view.view === VIEW)!.last_error).toBe('connect ECONNREFUSED [address] while reading [path]');
    expect((await fetch(`${url}/queues/api/redis/stats`)).status).toBe(403);
    expect((await getJson(`${url}/api/boom`)).body).toEqual({ error: 'internal error (details in the dashboard log)' });

    // The token's holders get the details back.
    const auth = { headers: bearer(TEST_TOKEN) };
    const board = await getJson<{ queues: { jobs: { stacktrace: string[]; failedReason: string }[] }[] }>(
      `${url}/queues/api/queues?activeQueue=refresh&status=failed&page=1&jobsPerPage=10`,
      auth,
    );
    const failedJob = board.body.queues[0]!.jobs.find((job) => job.failedReason === failure)!;
    expect(failedJob.stacktrace.join('\n')).toContain('    at ');
    expect((await fetch(`${url}/queues/api/redis/stats`, auth)).status).toBe(200);
    const detailed = await getJson<{ view: string; last_error: string }[]>(`${url}/api/views`, auth);
    expect(detailed.body.find((view) => view.view === VIEW)!.last_error).toContain(secretPath);
    expect((await getJson<{ error: string }>(`${url}/api/boom`, auth)).body.error).toContain('secret.js');
  });

  it('answers a wrong method on an existing route with 405 and Allow, OPTIONS with 204 and Allow, unknown paths with 404', async () => {
    const { url } = await fixture.start({ token: TEST_TOKEN });
    const before = await storedRequests(fixture);
    const cases: [string, string, string][] = [
      ['DELETE', '/api/views', 'GET, HEAD, OPTIONS'],
      ['POST', '/api/views', 'GET, HEAD, OPTIONS'],
      ['GET', '/api/refresh-all', 'POST, OPTIONS'],
      ['GET', `/api/views/${VIEW}/refresh`, 'POST, OPTIONS'],
      ['PUT', '/', 'GET, HEAD, OPTIONS'],
      ['GET', '/api/session', 'POST, DELETE, OPTIONS'],
      ['POST', '/metrics', 'GET, HEAD, OPTIONS'],
      ['GET', '/queues/api/queues/pause', 'PUT, OPTIONS'],
    ];
    for (const [method, path, allow] of cases) {
      const response = await getJson<{ error: string }>(`${url}${path}`, { method, headers: bearer(TEST_TOKEN) });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect(response.body.error).toBe(`${method} is not allowed on ${path} (allowed: ${allow})`);
    }
    const options = await fetch(`${url}/api/views`, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect(options.headers.get('access-control-allow-origin')).toBeNull();
    expect((await getJson(`${url}/api/nothing-here`, { method: 'DELETE' })).status).toBe(404);
    expect(await storedRequests(fixture)).toBe(before);
  });

  it('cancels a dashboard query that a lock holds up at the statement timeout (503), and caps /api/stats at 90 days', async () => {
    const { url } = await fixture.start({ queryTimeoutMs: 300 });
    let markLocked = () => {};
    let release = () => {};
    const locked = new Promise<void>((resolve) => (markLocked = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const holder = fixture.db.sql.begin(async (tx) => {
      await tx`LOCK TABLE mvfleet.mv_refresh_log IN ACCESS EXCLUSIVE MODE`;
      markLocked();
      await released;
    });
    try {
      await locked;
      for (const path of ['/api/views', '/api/stats', '/']) {
        const started = Date.now();
        const response = await getJson<{ error: string }>(`${url}${path}`, { headers: { Accept: 'application/json' } });
        expect(response.status, path).toBe(503);
        expect(response.body.error).toMatch(/took longer than 300 ms and was cancelled/);
        expect(Date.now() - started, path).toBeLessThan(3_000);
      }
    } finally {
      release();
      await holder;
    }
    expect((await fetch(`${url}/api/views`)).status).toBe(200);
    expect((await getJson(`${url}/api/stats?days=90`)).status).toBe(200);
    const tooLong = await getJson<{ error: string }>(`${url}/api/stats?days=91`);
    expect(tooLong).toMatchObject({ status: 400, body: { error: 'days must be between 1 and 90 (got 91)' } });
  });
});
