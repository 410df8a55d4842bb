import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { createDb, type DbHandle } from '../src/core/db.js';
import { createDashboard, type Dashboard } from '../src/dashboards/index.js';
import { migrate } from '../src/migrate/migrate.js';
import { createRedisQueueBackend, type QueueBackend } from '../src/queue/queue-backend.js';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import { TEST_TOKEN } from './dashboard.fixture.js';
import { demoMigrationsFolder } from './helpers/catalog.js';
import { startRestartablePostgres, type RestartablePostgres } from './helpers/restartable-postgres.js';
import { startRestartableRedis, type RestartableRedis } from './helpers/restartable-redis.js';
import { waitUntil } from './helpers/wait.js';

const VIEW = 'mv_budget_consolidation';
const WITH_TOKEN = { Authorization: `Bearer ${TEST_TOKEN}` };
const DEPENDENCY_TIMEOUT_MS = 1_000;

interface RefreshAnswer {
  error?: string;
  queue?: string;
  recorded?: string[];
  jobs?: { view: string; job_id: string }[];
}

/**
 * The page and the write endpoints while Redis or PostgreSQL is down: every answer says which
 * datastore is down and what became of the request, within the dashboard's dependency timeout,
 * and viewers without the token learn no host, port or path. Both servers are this test's own;
 * the machine's are never stopped. The phases run in order: Redis down, Redis back, PostgreSQL
 * down (the restartable PostgreSQL does not come back).
 */
describe('dashboard page and refresh requests when a datastore is down', () => {
  let postgres: RestartablePostgres | undefined;
  let redis: RestartableRedis | undefined;
  let db: DbHandle | undefined;
  const backends: QueueBackend[] = [];
  const queues: Queue[] = [];
  const dashboards: Dashboard[] = [];
  /** A producer connection, as `mvfleet dashboard` uses: commands fail fast while Redis is down. */
  let url = '';
  /** A worker connection, as `mvfleet up` shares with its worker: commands wait for a reconnect. */
  let waitingUrl = '';
  let redisPort = '';
  let postgresPort = '';
  let normalCsp: string | null = null;

  const start = async (role: 'producer' | 'worker'): Promise<string> => {
    const backend = createRedisQueueBackend({ url: redis!.url, prefix: '{mvfleet-when-down-test}', role });
    backends.push(backend);
    const queue = createRefreshQueue(backend);
    queues.push(queue);
    const dashboard = createDashboard({
      sql: db!.sql,
      catalog: demoCatalog,
      queue,
      queueTarget: backend.target,
      token: TEST_TOKEN,
      dependencyTimeoutMs: DEPENDENCY_TIMEOUT_MS,
    });
    dashboards.push(dashboard);
    return (await dashboard.listen(0)).url;
  };

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startRestartablePostgres(), startRestartableRedis()]);
    redisPort = new URL(redis.url).port;
    postgresPort = new URL(postgres.url).port;
    db = createDb({ url: postgres.url, max: 4, connectTimeoutSeconds: 2 });
    await migrate({ sql: db.sql, catalog: demoCatalog, migrationsFolder: demoMigrationsFolder });
    url = await start('producer');
    waitingUrl = await start('worker');
  }, 120_000);

  afterAll(async () => {
    await Promise.all(dashboards.map((dashboard) => dashboard.close()));
    await redis?.stop();
    const settle = (work: Promise<unknown> | undefined) => Promise.race([work, new Promise((resolve) => setTimeout(resolve, 2_000))]);
    await Promise.all(queues.map((queue) => settle(queue.close())));
    await Promise.all(backends.map((backend) => settle(backend.close())));
    await settle(db?.close(0));
    await postgres?.stop();
  });

  const requestRefresh = async (base: string, path = `/api/views/${VIEW}/refresh`) => {
    const started = performance.now();
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: WITH_TOKEN });
    return { status: response.status, body: (await response.json()) as RefreshAnswer, ms: performance.now() - started };
  };

  const pendingApiRequests = async () =>
    db!.sql<{ view_name: string; trigger_detail: string | null }[]>`
      SELECT view_name, trigger_detail FROM mvfleet.mv_pending_requests WHERE reason = 'api' ORDER BY view_name`;

  it('answers 202 and the freshness page while both answer', async () => {
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    normalCsp = page.headers.get('content-security-policy');
    expect(normalCsp).toContain("script-src 'self' 'sha256-");
    const refresh = await requestRefresh(url);
    expect(refresh.status).toBe(202);
    expect(refresh.body.jobs).toEqual([{ view: VIEW, job_id: expect.any(String) }]);
    // Drained as a worker would, so the phases below start from an empty table.
    await db!.sql`DELETE FROM mvfleet.mv_pending_requests`;
  });

  it('with Redis down, a refresh request answers 503 naming the queue, and the request is recorded in PostgreSQL', async () => {
    await redis!.kill();
    const { status, body, ms } = await requestRefresh(url);
    expect(status).toBe(503);
    expect(body.error).toMatch(new RegExp(`^queue "refresh" \\(Redis at 127\\.0\\.0\\.1:${redisPort}\\) is unreachable: `));
    expect(body.error).toContain(`the refresh of ${VIEW} is recorded in PostgreSQL and will run once the queue answers again`);
    expect(body).toMatchObject({ queue: 'refresh', recorded: [VIEW], jobs: [] });
    expect(ms).toBeLessThan(DEPENDENCY_TIMEOUT_MS + 4_000);
    // Nothing is lost: a worker's rescue of recorded requests enqueues it once Redis is back.
    expect(await pendingApiRequests()).toEqual([{ view_name: VIEW, trigger_detail: 'dashboard' }]);

    // The page still answers from PostgreSQL and shows the queue as unreachable.
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('queue unreachable');
    expect(text).toContain(`data-view="${VIEW}"`);
  });

  it('with Redis down, a connection that waits for a reconnect answers 503 within the dependency timeout', async () => {
    const { status, body, ms } = await requestRefresh(waitingUrl, '/api/refresh-all');
    expect(status).toBe(503);
    expect(body.error).toMatch(/^queue "refresh" \(Redis at [^)]+\) is unreachable: enqueueing on queue "refresh" timed out after 1000 ms; /);
    expect(body.error).toContain(`the refreshes of ${demoCatalog.views.length} views are recorded in PostgreSQL`);
    expect(body.recorded).toEqual(demoCatalog.views.map((view) => view.name));
    expect(ms).toBeLessThan(DEPENDENCY_TIMEOUT_MS + 4_000);
    // Every view has a request (the one recorded above may have been joined or followed by another).
    expect(new Set((await pendingApiRequests()).map((row) => row.view_name))).toEqual(new Set(demoCatalog.views.map((view) => view.name)));
  });

  it('once Redis is back, a refresh request answers 202 again', async () => {
    await redis!.start();
    const accepted = await waitUntil(
      'a 202 after Redis restarted',
      async () => {
        const answer = await requestRefresh(url);
        return answer.status === 202 && answer;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(accepted.body.jobs).toEqual([{ view: VIEW, job_id: expect.any(String) }]);
  }, 40_000);

  it('with PostgreSQL down, GET / answers the 503 error page, with the cause for the token holders only', async () => {
    await postgres!.stop();
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toBe(normalCsp);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const page = await response.text();
    expect(page).toContain('PostgreSQL is unreachable');
    expect(page).toContain('shows the data again once PostgreSQL answers');
    expect(page).toContain('<meta http-equiv="refresh" content="30">');
    // The queue still answers: its tiles stay on the page.
    expect(page).toContain('jobs waiting');
    // No inline script (the CSP allows only the freshness page's by hash), no third-party request.
    expect(page).not.toContain('<script');
    expect(page).not.toMatch(/(src|href)=["']?https?:/);
    // A viewer without the token learns no host, port, path or error code.
    expect(page).not.toContain('127.0.0.1');
    expect(page).not.toContain(postgresPort);
    expect(page).not.toMatch(/ECONNREFUSED|\/tmp\/|\n\s+at /);

    // A script that asks for JSON gets the API's answer instead of the page.
    const asJson = await fetch(`${url}/`, { headers: { Accept: 'application/json' } });
    expect(asJson.status).toBe(503);
    expect(await asJson.json()).toEqual({ error: 'PostgreSQL is unreachable (the cause is in the dashboard log)' });

    const detailed = await (await fetch(`${url}/`, { headers: WITH_TOKEN })).text();
    expect(detailed).toMatch(/Cause: <code id="cause">[^<]+<\/code>/);
    expect(detailed).toContain(postgresPort);
  });

  it('with PostgreSQL down, the JSON API answers 503 "PostgreSQL is unreachable", redacted without the token', async () => {
    const anonymous = await fetch(`${url}/api/views`);
    expect(anonymous.status).toBe(503);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/json/);
    const { error } = (await anonymous.json()) as { error: string };
    expect(error).toBe('PostgreSQL is unreachable (the cause is in the dashboard log)');

    const detailed = await fetch(`${url}/api/stats`, { headers: WITH_TOKEN });
    expect(detailed.status).toBe(503);
    expect(((await detailed.json()) as { error: string }).error).toMatch(new RegExp(`^PostgreSQL is unreachable: .*${postgresPort}`));
  });

  it('with PostgreSQL down, a refresh request answers 503 saying nothing was recorded', async () => {
    const { status, body, ms } = await requestRefresh(url);
    expect(status).toBe(503);
    expect(body.error).toMatch(/^PostgreSQL is unreachable: .+; nothing was recorded or enqueued: ask again once PostgreSQL answers$/);
    expect(body.recorded).toEqual([]);
    expect(ms).toBeLessThan(DEPENDENCY_TIMEOUT_MS + 4_000);
  });
});
