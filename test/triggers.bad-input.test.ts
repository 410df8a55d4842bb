import { describe, expect, it } from 'vitest';
import { createProducer } from '../src/producers/producer.js';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';

describe('producer bad input', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);

  async function queuedJobs() {
    const queue = createRefreshQueue(backends.backend('producer'));
    const counts = await queue.getJobCounts();
    await queue.close();
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  it('rejects unknown events, invalid payloads and unknown views, enqueueing nothing', async () => {
    const fleet = createProducer({ catalog: demoCatalog, backend: backends.backend('producer') });
    await expect(fleet.emit('invoice.voided', { firmId: 1 })).rejects.toThrow(/unknown event "invoice\.voided"/);
    await expect(fleet.emit('invoice.paid', {})).rejects.toThrow(/invalid payload for invoice\.paid: firmId/);
    await expect(fleet.emit('invoice.paid', { firmId: 'seven' })).rejects.toThrow(/firmId/);
    await expect(fleet.emit('invoice.paid', { firmId: 1, paidOn: '03/01/2026' })).rejects.toThrow(/paidOn must be a date/);
    // The key fields of the keyed revenue view are required.
    await expect(fleet.emit('invoice.paid', { firmId: 1, paidOn: '2026-03-01' })).rejects.toThrow(/invalid payload for invoice\.paid: projectId/);
    await expect(fleet.refresh('mv_nope')).rejects.toThrow(/unknown view "mv_nope"/);
    expect(await queuedJobs()).toBe(0);
    await fleet.close();
  });

  it('rejects options that contradict each other', () => {
    expect(() => createProducer({ catalog: demoCatalog })).toThrow(/exactly one of `backend` and `redisUrl`/);
    expect(() => createProducer({ catalog: demoCatalog, redisUrl: 'redis://127.0.0.1:6379', timeoutMs: -1 })).toThrow(
      /timeoutMs must be > 0/,
    );
  });

  it('emit rejects within its timeout when Redis is unreachable', async () => {
    const fleet = createProducer({ catalog: demoCatalog, redisUrl: 'redis://127.0.0.1:9', timeoutMs: 1_000 });
    const started = Date.now();
    const payload = { firmId: 1, projectId: 1, paidOn: '2026-03-01' };
    await expect(fleet.emit('invoice.paid', payload)).rejects.toThrow(/cannot enqueue refresh \(Redis at 127\.0\.0\.1:9\)/);
    expect(Date.now() - started).toBeLessThan(3_000);
    await fleet.close();
  });

  it.each([
    [['emit', 'invoice.voided'], /unknown event "invoice\.voided"/],
    [['emit', 'invoice.paid', '--data', '{firmId: 1}'], /--data is not valid JSON/],
    [['emit', 'invoice.paid', '--data', '[1]'], /--data must be a JSON object/],
    [['emit', 'invoice.paid', '--data', '{"firmId": 0}'], /invalid payload for invoice\.paid: firmId/],
    [['emit'], /name exactly one event/],
  ])('mvfleet %j: one line, exit 2, nothing enqueued', async (args, message) => {
    const result = await runCli(args, { ...backends.env(), DATABASE_URL: db.url });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(await queuedJobs()).toBe(0);
  });
});
