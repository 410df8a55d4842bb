import { describe, expect, it } from 'vitest';
import type { RefreshLogEntry } from '../src/dashboards/index.js';
import { TEST_TOKEN, getJson, useDashboardFixture } from './dashboard.fixture.js';
import { waitUntil } from './helpers/wait.js';

const VIEW = 'mv_budget_consolidation';
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Writes need the dashboard token; refused requests enqueue nothing; accepted ones refresh the view. */
describe('dashboard write endpoints and Bull Board actions', () => {
  const fixture = useDashboardFixture();

  it('without a configured token, writes answer 403 saying how to enable them, and nothing is enqueued', async () => {
    const { url } = await fixture.start();
    for (const path of [`/api/views/${VIEW}/refresh`, '/api/refresh-all']) {
      for (const headers of [{}, bearer(TEST_TOKEN)]) {
        const response = await getJson<{ error: string }>(`${url}${path}`, { method: 'POST', headers });
        expect(response.status, path).toBe(403);
        expect(response.body.error).toMatch(/set MVFLEET_DASHBOARD_TOKEN/);
      }
    }
    const pause = await fetch(`${url}/queues/api/queues/refresh/pause`, { method: 'PUT', headers: bearer(TEST_TOKEN) });
    expect(pause.status).toBe(403);
    expect(await fixture.queue.isPaused()).toBe(false);
    const board = await getJson<{ queues: { readOnlyMode: boolean }[] }>(`${url}/queues/api/queues`, { headers: bearer(TEST_TOKEN) });
    expect(board.body.queues[0]!.readOnlyMode).toBe(true);
    expect(await fixture.jobCount()).toBe(0);
  });

  it('with a token, a missing or wrong bearer answers 401 and enqueues nothing; an unknown view answers 404', async () => {
    const { url } = await fixture.start({ token: TEST_TOKEN });
    const attempts: [string, Record<string, string>][] = [
      [`/api/views/${VIEW}/refresh`, {}],
      [`/api/views/${VIEW}/refresh`, bearer('wrong-token-0123456789abcdef')],
      [`/api/views/${VIEW}/refresh`, bearer(`${TEST_TOKEN}x`)],
      [`/api/views/${VIEW}/refresh`, { Authorization: TEST_TOKEN }],
      ['/api/refresh-all', bearer('short')],
    ];
    for (const [path, headers] of attempts) {
      const response = await getJson<{ error: string }>(`${url}${path}`, { method: 'POST', headers });
      expect(response.status, JSON.stringify(headers)).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(response.body.error).toMatch(/bearer token/);
    }
    const unknown = await getJson<{ error: string }>(`${url}/api/views/no_such_view/refresh`, { method: 'POST', headers: bearer(TEST_TOKEN) });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/^unknown view "no_such_view"/);

    const pause = await fetch(`${url}/queues/api/queues/refresh/pause`, { method: 'PUT', headers: bearer('wrong-token-0123456789abcdef') });
    expect(pause.status).toBe(401);
    expect(await fixture.queue.isPaused()).toBe(false);
    expect(await fixture.jobCount()).toBe(0);
  });

  it('Bull Board is read-only for anonymous visitors and writable with the token or the board session cookie', async () => {
    const { url } = await fixture.start({ token: TEST_TOKEN });
    const anonymous = await getJson<{ queues: { name: string; readOnlyMode: boolean }[] }>(`${url}/queues/api/queues`);
    expect(anonymous.body.queues.map((queue) => [queue.name, queue.readOnlyMode])).toEqual([['refresh', true]]);
    const authorised = await getJson<{ queues: { readOnlyMode: boolean }[] }>(`${url}/queues/api/queues`, { headers: bearer(TEST_TOKEN) });
    expect(authorised.body.queues[0]!.readOnlyMode).toBe(false);
    expect((await fetch(`${url}/queues`)).status).toBe(200);

    const session = await fetch(`${url}/api/session`, { method: 'POST', headers: bearer(TEST_TOKEN) });
    expect(session.status).toBe(200);
    const cookie = session.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain(TEST_TOKEN);
    const sessionCookie = cookie.split(';')[0]!;

    const crossSite = await fetch(`${url}/queues/api/queues/refresh/pause`, {
      method: 'PUT',
      headers: { Cookie: sessionCookie, Origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(401);
    expect(await fixture.queue.isPaused()).toBe(false);

    const pause = await fetch(`${url}/queues/api/queues/refresh/pause`, { method: 'PUT', headers: { Cookie: sessionCookie, Origin: url } });
    expect(pause.status).toBeLessThan(300);
    expect(await fixture.queue.isPaused()).toBe(true);
    const resume = await fetch(`${url}/queues/api/queues/refresh/resume`, { method: 'PUT', headers: bearer(TEST_TOKEN) });
    expect(resume.status).toBeLessThan(300);
    expect(await fixture.queue.isPaused()).toBe(false);

    // Behind a proxy with Basic auth and TLS: the Basic header does not shadow the cookie, and
    // the browser's https Origin (TLS ended at the proxy) still counts as same-origin.
    const host = new URL(url).host;
    const behindProxy = await fetch(`${url}/queues/api/queues/refresh/pause`, {
      method: 'PUT',
      headers: { Cookie: sessionCookie, Authorization: 'Basic dXNlcjpwYXNz', Origin: `https://${host}`, 'Sec-Fetch-Site': 'same-origin' },
    });
    expect(behindProxy.status).toBeLessThan(300);
    expect(await fixture.queue.isPaused()).toBe(true);
    const crossSiteFetch = await fetch(`${url}/queues/api/queues/refresh/resume`, {
      method: 'PUT',
      headers: { Cookie: sessionCookie, 'Sec-Fetch-Site': 'cross-site' },
    });
    expect(crossSiteFetch.status).toBe(401);
    // The page's own header carries the token without replacing a proxy's Authorization.
    const viaHeader = await fetch(`${url}/queues/api/queues/refresh/resume`, {
      method: 'PUT',
      headers: { 'X-Mvfleet-Token': TEST_TOKEN, Authorization: 'Basic dXNlcjpwYXNz' },
    });
    expect(viaHeader.status).toBeLessThan(300);
    expect(await fixture.queue.isPaused()).toBe(false);
    const wrongHeader = await fetch(`${url}/api/refresh-all`, { method: 'POST', headers: { 'X-Mvfleet-Token': 'not-the-token-at-all' } });
    expect(wrongHeader.status).toBe(401);
  });

  it('with the right token, POST /api/views/:view/refresh answers 202 and the refresh runs and is logged', async () => {
    const { url } = await fixture.start({ token: TEST_TOKEN });
    await fixture.startWorker();
    const accepted = await getJson<{ requested_at: string; jobs: { view: string; job_id: string }[] }>(`${url}/api/views/${VIEW}/refresh`, {
      method: 'POST',
      headers: bearer(TEST_TOKEN),
    });
    expect(accepted.status).toBe(202);
    expect(accepted.body.jobs).toEqual([{ view: VIEW, job_id: expect.any(String) }]);
    const jobId = accepted.body.jobs[0]!.job_id;

    const entry = await waitUntil('the API refresh to appear in the log as a success', async () => {
      const { body } = await getJson<RefreshLogEntry[]>(`${url}/api/views/${VIEW}/logs?limit=5`);
      return body.find((row) => row.job_id === jobId && row.status === 'success');
    });
    expect(entry).toMatchObject({ view_name: VIEW, reason: 'api', trigger_detail: 'dashboard', attempt: 1 });
    expect(new Date(entry.started_at).getTime()).toBeGreaterThanOrEqual(new Date(accepted.body.requested_at).getTime() - 1_000);
    const [{ populated }] = await fixture.db.sql<[{ populated: boolean }]>`
      SELECT ispopulated AS populated FROM pg_matviews WHERE matviewname = ${VIEW}`;
    expect(populated).toBe(true);
  });

  it('POST /api/refresh-all enqueues every view and each one is refreshed', async () => {
    const { url } = await fixture.start({ token: TEST_TOKEN });
    await fixture.startWorker();
    const accepted = await getJson<{ jobs: { view: string }[] }>(`${url}/api/refresh-all`, { method: 'POST', headers: bearer(TEST_TOKEN) });
    expect(accepted.status).toBe(202);
    expect(accepted.body.jobs.map((job) => job.view)).toEqual(fixture.catalog.views.map((view) => view.name));
    await waitUntil('every view to have an API refresh logged as success', async () => {
      const rows = await fixture.db.sql<{ view_name: string }[]>`
        SELECT DISTINCT view_name FROM mvfleet.mv_refresh_log WHERE reason IN ('api', 'cascade') AND status = 'success'`;
      return rows.length === fixture.catalog.views.length;
    });
  });
});
