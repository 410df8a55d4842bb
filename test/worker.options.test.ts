import { describe, expect, it } from 'vitest';
import { createDb } from '../src/core/db.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { createWorker } from '../src/workers/refresh-worker.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';

describe('createWorker options', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);

  it('refuses a pool too small for its concurrency (each refresh needs two connections)', () => {
    const small = createDb({ url: db.url, max: 4 });
    expect(() => createWorker({ backend: backends.backend(), sql: small.sql, catalog: demoCatalog, concurrency: 2 })).toThrow(
      /sql pool has 4 connections but concurrency 2 needs 5/,
    );
    void small.close();
  });

  it.each([
    [{ concurrency: 0 }, /concurrency must be an integer >= 1 \(got 0\)/],
    [{ orphanSweepIntervalMs: 0 }, /orphanSweepIntervalMs must be >= 1000 \(got 0\)/],
    [{ shutdownGraceMs: -1 }, /shutdownGraceMs must be >= 0 \(got -1\)/],
    [{ stalledIntervalMs: 10 }, /stalledIntervalMs must be >= 100 \(got 10\)/],
  ])('rejects %j, naming the option', (options, message) => {
    expect(() => createWorker({ backend: backends.backend(), sql: db.sql, catalog: demoCatalog, ...options })).toThrow(message);
  });
});

describe('refresh-log retention', () => {
  const db = useTestDatabase();

  it('prunes finished attempts older than the retention, never running ones or recent ones', async () => {
    const { pruneLog } = await import('../src/workers/refresh-log-store.js');
    await db.sql`
      INSERT INTO mvfleet.mv_refresh_log (view_name, status, reason, started_at)
      VALUES ('mv_kpi_dashboard', 'success', 'schedule', now() - interval '100 days'),
             ('mv_kpi_dashboard', 'failed', 'schedule', now() - interval '95 days'),
             ('mv_kpi_dashboard', 'running', 'schedule', now() - interval '120 days'),
             ('mv_kpi_dashboard', 'success', 'schedule', now() - interval '10 days')`;
    expect(await pruneLog(db.sql, demoCatalog.store, 90)).toBe(2);
    const left = await db.sql<{ status: string }[]>`SELECT status FROM mvfleet.mv_refresh_log ORDER BY started_at`;
    expect(left.map((row) => row.status)).toEqual(['running', 'success']);
    expect(await pruneLog(db.sql, demoCatalog.store, 90)).toBe(0);
  });
});
