import { describe, expect, it } from 'vitest';
import { scheduleId, scheduledCoalesceKey } from '../src/queue/job-contract.js';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { createWorker } from '../src/workers/refresh-worker.js';
import { createScheduler } from '../src/workers/scheduler.js';
import { demoCatalogWith } from './helpers/catalog.js';
import { useTestDatabase } from './helpers/database.js';
import { useChildProcesses } from './helpers/processes.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { waitUntil } from './helpers/wait.js';

const TOURNAMENTS = 'tournament_analytics_summary';
const scheduledViews = demoCatalog.views.filter((view) => view.schedule).map((view) => view.name);

describe('schedules', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);
  const processes = useChildProcesses();

  it('four scheduler processes started at once leave exactly one scheduler and one next tick per view', async () => {
    const env = { ...backends.env(), DATABASE_URL: db.url, LOG_LEVEL: 'info', MVFLEET_TZ: 'Europe/Paris' };
    const schedulers = [1, 2, 3, 4].map(() => processes.cli(['scheduler'], env));
    await Promise.all(schedulers.map((scheduler) => scheduler.waitFor('"scheduler synced"')));

    const queue = createRefreshQueue(backends.backend('producer'));
    const found = await queue.getJobSchedulers(0, -1);
    expect(found.map((s) => s.key).sort()).toEqual(scheduledViews.map(scheduleId).sort());
    const nightly = found.find((s) => s.key === scheduleId('mv_kpi_dashboard'))!;
    expect(nightly).toMatchObject({ pattern: '0 2 * * *', tz: 'Europe/Paris' });
    const hourly = found.find((s) => s.key === scheduleId(TOURNAMENTS))!;
    expect(Number(hourly.every)).toBe(3_600_000);
    const ticks = async () => (await queue.getJobs(['delayed', 'waiting'])).filter((job) => job.name === 'tick');
    const pending = await ticks();
    for (const view of scheduledViews) {
      expect(pending.filter((job) => job.repeatJobKey === scheduleId(view)), view).toHaveLength(1);
    }

    // Drive time: fire the nightly tick now instead of at 02:00.
    const worker = createWorker({ backend: backends.backend(), sql: db.sql, catalog: demoCatalog });
    await worker.ready();
    const tick = pending.find((job) => job.repeatJobKey === scheduleId('mv_kpi_dashboard'))!;
    if ((await tick.getState()) === 'delayed') await tick.promote();
    // It enqueued a (jitter 0) scheduled refresh, and the scheduler holds the following tick.
    await waitUntil('the tick to run and the next one to be scheduled', async () => {
      const state = await queue.getJobState(tick.id!);
      const next = (await ticks()).filter((job) => job.repeatJobKey === scheduleId('mv_kpi_dashboard') && job.id !== tick.id);
      return state === 'completed' && next.length === 1;
    });
    await worker.close();
    for (const scheduler of schedulers) scheduler.child.kill('SIGTERM');
    const exits = await Promise.all(schedulers.map((scheduler) => scheduler.exited));
    expect(exits.map((exit) => exit.code)).toEqual([0, 0, 0, 0]);
    await queue.close();
  });

  it('spreads scheduled refreshes over [0, jitter]', async () => {
    const jitterMs = 600_000;
    const catalog = demoCatalogWith({ [TOURNAMENTS]: { schedule: { kind: 'every', everyMs: 150, jitterMs } } });
    const backend = backends.isolated('jitter');
    const queue = createRefreshQueue(backend);
    const scheduler = createScheduler({ queue, backend, catalog });
    await scheduler.sync();
    const worker = createWorker({ backend, sql: db.sql, catalog });
    await worker.ready();

    // Each tick adds a refresh delayed by its jitter; the test takes it away so the next tick adds another.
    const delays: number[] = [];
    await waitUntil(
      '40 jittered refreshes',
      async () => {
        const [job] = (await queue.getJobs(['delayed'])).filter((j) => j.name === 'refresh' && j.opts.deduplication?.id === scheduledCoalesceKey(TOURNAMENTS));
        if (job) {
          delays.push(job.delay);
          // A job jittered by a few milliseconds may start between the listing and the removal
          // ("locked by another worker"): its delay was still drawn, and it is no longer delayed.
          await job.remove().catch((error: unknown) => {
            if (!/locked by another worker/.test(String(error))) throw error;
          });
        }
        return delays.length >= 40;
      },
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    expect(delays.every((delay) => delay >= 0 && delay <= jitterMs)).toBe(true);
    const sorted = [...delays].sort((a, b) => a - b);
    expect(sorted[0]!).toBeLessThan(jitterMs * 0.25);
    expect(sorted.at(-1)!).toBeGreaterThan(jitterMs * 0.75);
    expect(new Set(delays).size).toBeGreaterThan(30);
    await worker.close();
    await scheduler.close();
    await queue.close();
  }, 90_000);

  it('removes the scheduler of a view whose schedule left the catalog', async () => {
    const backend = backends.isolated('removal');
    const queue = createRefreshQueue(backend);
    await createScheduler({ queue, backend, catalog: demoCatalog }).sync();
    const without = demoCatalogWith({ mv_kpi_dashboard: { schedule: null } });
    const result = await createScheduler({ queue, backend, catalog: without }).sync();
    expect(result.removed).toEqual(['mv_kpi_dashboard']);
    const keys = (await queue.getJobSchedulers(0, -1)).map((s) => s.key);
    expect(keys).not.toContain(scheduleId('mv_kpi_dashboard'));
    expect(keys).toHaveLength(scheduledViews.length - 1);
    // A second sync with the same catalog changes nothing.
    expect(await createScheduler({ queue, backend, catalog: without }).sync()).toEqual({
      created: [],
      updated: [],
      removed: [],
      repaired: [],
    });
    await queue.close();
  });
});
