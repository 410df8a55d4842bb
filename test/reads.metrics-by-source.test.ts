import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { createReader } from '../src/reads/index.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { useTestDatabase } from './helpers/database.js';

const VIEW = 'tournament_analytics_summary';

/** Value of one series of a metric in the registry's JSON export. */
async function series(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metrics = await registry.getMetricsAsJSON();
  const metric = metrics.find((candidate) => candidate.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number>; metricName?: string }[];
  return values.find(
    (value) => (value.metricName ?? name) === name && Object.entries(labels).every(([key, label]) => value.labels[key] === label),
  )?.value;
}

describe('reads are counted by view and source', () => {
  const db = useTestDatabase();

  beforeAll(async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    await createRefreshExecutor({ sql: db.sql, catalog: demoCatalog }).refresh({ view: VIEW, reason: 'manual' });
  });

  it('counts materialized and live reads and their durations in the given registry', async () => {
    const registry = new Registry();
    const reader = createReader({ sql: db.sql, catalog: demoCatalog, registry });
    await reader.get(VIEW, 1);
    await reader.list(VIEW, { tournament_status: 'completed' });
    await reader.get(VIEW, 1, { live: true });
    await reader.get('mv_kpi_dashboard', 1); // never refreshed here: live

    expect(await series(registry, 'mvfleet_reads_total', { view: VIEW, source: 'materialized' })).toBe(2);
    expect(await series(registry, 'mvfleet_reads_total', { view: VIEW, source: 'live' })).toBe(1);
    expect(await series(registry, 'mvfleet_reads_total', { view: 'mv_kpi_dashboard', source: 'live' })).toBe(1);
    expect(await series(registry, 'mvfleet_reads_total', { view: 'mv_kpi_dashboard', source: 'materialized' })).toBeUndefined();
    const text = await registry.metrics();
    const durationCount = 'mvfleet_read_duration_seconds_count';
    expect(text).toContain(`${durationCount}{view="${VIEW}",source="materialized"} 2`);
    expect(text).toContain(`${durationCount}{view="${VIEW}",source="live"} 1`);
    expect(text).toContain('mvfleet_read_duration_seconds_bucket{le="0.0001"');
  });

  it('shares the metrics of one registry between readers', async () => {
    const registry = new Registry();
    const first = createReader({ sql: db.sql, catalog: demoCatalog, registry });
    const second = createReader({ sql: db.sql, catalog: demoCatalog, registry });
    await first.get(VIEW, 1);
    await second.get(VIEW, 1);
    expect(await series(registry, 'mvfleet_reads_total', { view: VIEW, source: 'materialized' })).toBe(2);
  });

  it('writes one debug line per read with view, source, age and duration', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const reader = createReader({ sql: db.sql, catalog: demoCatalog, logger: pino({ level: 'debug' }, sink) });
    await reader.get(VIEW, 1);
    await reader.get(VIEW, 1, { live: true });
    expect(lines.map(({ view, source, msg }) => ({ view, source, msg }))).toEqual([
      { view: VIEW, source: 'materialized', msg: 'read' },
      { view: VIEW, source: 'live', msg: 'read' },
    ]);
    for (const line of lines) {
      expect(line.duration_ms).toEqual(expect.any(Number));
      expect(line.age_minutes).toEqual(expect.any(Number));
    }
  });
});
