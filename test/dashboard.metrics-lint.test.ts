import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTestEnv } from '../src/config/env.js';
import { Registry } from 'prom-client';
import { REFRESH_DURATION_BUCKETS } from '../src/dashboards/index.js';
import { registerProcessMetrics } from '../src/dashboards/process-metrics.js';
import { createReadMetrics } from '../src/reads/read-metrics.js';
import { useDashboardFixture } from './dashboard.fixture.js';

const VIEW = 'referensi_ahsp_stats';

/** Whether `promtool` (Debian package `prometheus`) is on the PATH. */
const promtoolInstalled = spawnSync('promtool', ['--version']).error === undefined;

/** `/metrics` passes Prometheus's own linter, and its duration buckets resolve fast refreshes. */
describe('dashboard /metrics reads right', () => {
  const fixture = useDashboardFixture();
  let text = '';

  beforeAll(async () => {
    // A view whose refreshes take 14-36 ms, plus one beyond the last bound.
    await fixture.db.sql`
      INSERT INTO mvfleet.mv_refresh_log (view_name, status, mode, reason, attempt, started_at, finished_at, duration_ms)
      SELECT ${VIEW}, 'success', 'concurrent', 'event', 1, now() - make_interval(secs => i), now() - make_interval(secs => i),
             CASE WHEN i = 0 THEN 3600001 ELSE 14 + i % 23 END
      FROM generate_series(0, 99) AS i`;
    // The registry `mvfleet dashboard` serves (start-fleet.ts): process metrics, the reader's
    // metrics and the dashboard's own.
    const registry = new Registry();
    registerProcessMetrics(registry);
    createReadMetrics(registry).observe(VIEW, 'materialized', 0.0004);
    const { url } = await fixture.start({ registry });
    text = await (await fetch(`${url}/metrics`)).text();
  });

  const sample = (series: string) => {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
    if (!line) throw new Error(`no sample ${series} in:\n${text}`);
    return Number(line.slice(series.length + 1));
  };

  it('has duration buckets from 1 ms to an hour that place a 14-36 ms refresh between 10 and 50 ms', () => {
    expect(REFRESH_DURATION_BUCKETS[0]).toBe(0.001);
    expect(REFRESH_DURATION_BUCKETS.at(-1)).toBe(3600);
    const labels = `view="${VIEW}",status="success",mode="concurrent"`;
    const les = [...text.matchAll(new RegExp(`^mvfleet_refresh_duration_seconds_bucket\\{${labels},le="([^"]+)"\\}`, 'gm'))].map((match) => match[1]);
    expect(les).toEqual([...REFRESH_DURATION_BUCKETS.map(String), '+Inf']);
    const bucket = (le: string) => sample(`mvfleet_refresh_duration_seconds_bucket{${labels},le="${le}"}`);
    expect(bucket('0.01')).toBe(0);
    // 14..24 ms: 11 of every 23 durations.
    expect(bucket('0.025')).toBe(Array.from({ length: 99 }, (_, i) => 14 + ((i + 1) % 23)).filter((ms) => ms <= 25).length);
    expect(bucket('0.05')).toBe(99);
    expect(bucket('3600')).toBe(99);
    expect(bucket('+Inf')).toBe(100);
  });

  it('passes promtool check metrics', (context) => {
    if (!promtoolInstalled) {
      // Under CI (CI set, as .ci/run does) a missing promtool is a failure, never a skip.
      if (loadTestEnv().CI) throw new Error('promtool is not installed: CI must install it (apt-get install prometheus, see .ci/run)');
      console.warn('skipped: promtool is not installed (apt-get install prometheus); CI runs this check');
      context.skip('promtool is not installed (apt-get install prometheus)');
    }
    expect(text).toMatch(/^mvfleet_postgres_up 1$/m);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^mvfleet_read_duration_seconds_bucket\{/m);
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});
