import { describe, expect, it } from 'vitest';
import { createDb } from '../core/db.js';
import { demoCatalog } from '../schema/catalog.js';
import { createWorker } from '../workers/refresh-worker.js';
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
