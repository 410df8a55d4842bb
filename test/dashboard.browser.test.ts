import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTestEnv } from '../src/config/env.js';
import { enqueueRefresh } from '../src/queue/refresh-queue.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { TEST_TOKEN, useDashboardFixture } from './dashboard.fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const chromiumMissing = !existsSync(CHROMIUM);
// Under CI a missing browser is a failure (the test below says why), never a silent skip.
const skip = chromiumMissing && !loadTestEnv().CI;

/** An on-call engineer opens the dashboard in a browser, reads the fleet state and refreshes a view. */
describe.skipIf(skip)('dashboard in a browser', () => {
  const fixture = useDashboardFixture();
  const { db } = fixture;
  let browser: Browser | undefined;
  let url = '';

  beforeAll(async () => {
    if (chromiumMissing) {
      throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium); .ci/run does this`);
    }
    await mkdir(ARTIFACTS, { recursive: true });
    await seedDemo({ sql: db.sql, scale: 'small' });
    const executor = createRefreshExecutor({ sql: db.sql, catalog: fixture.catalog });
    for (const view of ['tournament_analytics_summary', 'mv_revenue_by_project_month', 'mv_revenue_by_firm_quarter', 'referensi_ahsp_stats']) {
      await executor.refresh({ view, reason: 'manual' });
      await executor.refresh({ view, reason: 'schedule' });
    }
    // History the page should make obvious: a view refreshed long ago, and one failing twice in a row.
    await db.sql`
      INSERT INTO mvfleet.mv_refresh_log (view_name, status, mode, reason, attempt, started_at, finished_at, duration_ms, rows_after, error_message, error_code)
      VALUES ('mv_utilization_by_user_week', 'success', 'plain', 'schedule', 1, now() - interval '30 hours', now() - interval '30 hours', 2400, 120, null, null),
             ('mv_budget_consolidation', 'failed', 'plain', 'schedule', 1, now() - interval '20 minutes', now() - interval '20 minutes', 5000, null,
              'canceling statement due to lock timeout', '55P03'),
             ('mv_budget_consolidation', 'failed', 'plain', 'schedule', 2, now() - interval '10 minutes', now() - interval '10 minutes', 5000, null,
              'canceling statement due to lock timeout', '55P03')`;
    await fixture.startWorker();
    const inAnHour = new Date(Date.now() + 3_600_000);
    ({ url } = await fixture.start({
      token: TEST_TOKEN,
      nextRuns: async () => new Map(fixture.catalog.views.filter((view) => view.schedule).map((view) => [view.name, inAnHour])),
    }));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows every view with its state, and a refresh clicked in the page runs and appears', async () => {
    const page = await browser!.newPage({ viewport: { width: 1600, height: 1000 } });
    const external: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(url)) external.push(request.url());
    });
    await page.goto(`${url}/`);
    for (const view of fixture.catalog.views) expect(await page.locator(`#views tr[data-view="${view.name}"]`).count(), view.name).toBe(1);
    expect(await page.locator('#verdict').innerText()).toMatch(/views need attention/);
    expect(await page.locator('#views tr[data-view="mv_budget_consolidation"]').innerText()).toMatch(/2× failed: canceling statement due to lock timeout/);
    expect(await page.locator('#views tr[data-view="mv_utilization_by_user_week"] .fresh').innerText()).toMatch(/STALE\s+1d 6h old/);
    expect(await page.locator('#views tr[data-view="tournament_analytics_summary"] .fresh').innerText()).toMatch(/FRESH/);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-freshness.png`, fullPage: true });

    const view = 'mv_kpi_dashboard';
    const before = await page.locator('#recent-runs [data-log-id]').evaluateAll((rows) => Math.max(0, ...rows.map((row) => Number(row.getAttribute('data-log-id')))));
    const prompts: string[] = [];
    page.on('dialog', (dialog) => {
      prompts.push(dialog.message());
      void dialog.accept(TEST_TOKEN);
    });
    await page.locator(`#views tr[data-view="${view}"] button[data-action="refresh"]`).click();
    const ran = page.locator(`#recent-runs tr[data-view="${view}"][data-status="success"]`);
    await ran.first().waitFor({ timeout: 30_000 });
    const logId = Number(await ran.first().getAttribute('data-log-id'));
    expect(logId).toBeGreaterThan(before);
    expect(prompts).toEqual([expect.stringMatching(/MVFLEET_DASHBOARD_TOKEN/)]);
    await expect.poll(() => page.locator('#flash').innerText(), { timeout: 10_000 }).toMatch(/Done: mv_kpi_dashboard success/);
    const [row] = await db.sql<[{ reason: string; status: string }]>`SELECT reason, status FROM mvfleet.mv_refresh_log WHERE id = ${logId}`;
    expect(row).toEqual({ reason: 'api', status: 'success' });
    expect(await page.locator(`#views tr[data-view="${view}"] .badge`).innerText()).toBe('success');
    await page.screenshot({ path: `${ARTIFACTS}dashboard-after-refresh.png`, fullPage: true });
    expect(external).toEqual([]);
  });

  it('fits a 1,280 px window with every Refresh button visible, shows next runs as times, and says so when the token prompt is cancelled', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
    });
    await page.goto(`${url}/`);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-1280.png`, fullPage: true });
    // Runs in the page: the test's own types know no DOM.
    const widths = await page.evaluate(() => {
      const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return { scroll: root.scrollWidth, client: root.clientWidth };
    });
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    const buttons = page.locator('#views button[data-action="refresh"]');
    expect(await buttons.count()).toBe(fixture.catalog.views.length);
    for (const box of await buttons.evaluateAll((elements) => elements.map((element) => element.getBoundingClientRect().toJSON() as { width: number; right: number }))) {
      expect(box.width).toBeGreaterThan(0);
      expect(box.right).toBeLessThanOrEqual(1280);
    }

    const scheduled = fixture.catalog.views.find((view) => view.schedule)!.name;
    expect(await page.locator(`#views tr[data-view="${scheduled}"] .next-run`).innerText()).toMatch(/^in (\d+ h )?\d+ m, \d{2}:\d{2} UTC$/);

    const jobsBefore = await fixture.jobCount();
    page.on('dialog', (dialog) => void dialog.dismiss());
    await buttons.first().click();
    await expect.poll(() => page.locator('#flash').innerText()).toMatch(/Cancelled: no token entered, nothing was requested/);
    expect(await page.locator('#flash').getAttribute('class')).toContain('err');
    expect(await fixture.jobCount()).toBe(jobsBefore);
    expect(blocked).toEqual([]);
  });

  it('signs in with the token when reads need it, and the session then shows the page and Bull Board', async () => {
    const { url: guarded } = await fixture.start({ token: TEST_TOKEN, requireTokenForReads: true });
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
    });
    const answers = [null, TEST_TOKEN];
    page.on('dialog', (dialog) => {
      const answer = answers.shift();
      void (answer ? dialog.accept(answer) : dialog.dismiss());
    });
    await page.goto(`${guarded}/`);
    await page.locator('#sign-in').click();
    await expect.poll(() => page.locator('#status').innerText()).toMatch(/Cancelled: no token entered/);
    await page.locator('#sign-in').click();
    await page.locator('#views').waitFor({ timeout: 10_000 });
    expect(await page.locator('#views tr[data-view]').count()).toBe(fixture.catalog.views.length);
    await page.goto(`${guarded}/queues`);
    await page.getByText('refresh', { exact: true }).first().waitFor({ timeout: 20_000 });
    expect(blocked).toEqual([]);
  });

  it('opens Bull Board at /queues and shows the refresh queue', async () => {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    const external: string[] = [];
    const blocked: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(url)) external.push(request.url());
    });
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
    });
    await page.goto(`${url}/queues`);
    await page.getByText('refresh', { exact: true }).first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: `${ARTIFACTS}dashboard-bull-board.png`, fullPage: true });
    const view = 'mv_utilization_by_project_month';
    await enqueueRefresh(fixture.queue, fixture.catalog, { view, reason: 'api', requestedAt: new Date().toISOString(), delayMs: 3_600_000 });
    await page.goto(`${url}/queues/queue/refresh?status=delayed`);
    await page.getByText(view).first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: `${ARTIFACTS}dashboard-bull-board-delayed.png`, fullPage: true });
    // Bull Board runs under the dashboard's CSP, and nothing on it reaches another server.
    expect(external).toEqual([]);
    expect(blocked).toEqual([]);
  });
});
