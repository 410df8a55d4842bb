import { createDb, type Sql } from '../../src/core/db.js';
import { createDashboard } from '../../src/dashboards/index.js';
import { migrate } from '../../src/migrate/migrate.js';
import { createRedisQueueBackend } from '../../src/queue/queue-backend.js';
import { createRefreshQueue } from '../../src/queue/refresh-queue.js';
import demoConfig from '../../examples/demo/mvfleet.config.js';
import { figureSet, type Scenario } from '../context.js';
import { withDatabase } from '../database.js';
import { ratio, since, summarize } from '../stats.js';

/**
 * `/metrics` and `/api/stats` against refresh logs of different sizes, in a database of the
 * scenario's own, `<bench database>_metrics` (created, migrated and dropped here; the bench
 * database is left alone).
 *
 * The log is synthetic: one finished attempt every {@link SPACING_SECONDS} s fleet-wide, newest
 * first, so every size holds the same recent attempts and a larger log is a longer history
 * (10k rows: 7.5 days, so /api/stats?days=7 reads the same window at every size; 1M rows:
 * two years, a log kept past the default 90-day retention). Inserted with generate_series,
 * so the totals trigger counts them in one statement.
 */
const SPACING_SECONDS = 65;

/** The grouped scan of the whole log that `/metrics` ran per scrape before the totals table. */
const WHOLE_LOG_SCAN = `
  SELECT view_name, status, reason, coalesce(mode, 'none'), width_bucket(duration_ms, '{101,251,501,1001,2501,5001,10001,30001,60001,120001,300001,600001}'::int[]),
         count(*), coalesce(sum(duration_ms), 0)
  FROM mvfleet.mv_refresh_log WHERE status <> 'running' GROUP BY 1, 2, 3, 4, 5`;

async function fillLog(sql: Sql, views: readonly string[], rows: number): Promise<void> {
  await sql`TRUNCATE mvfleet.mv_refresh_log, mvfleet.mv_refresh_totals`;
  await sql`
    INSERT INTO mvfleet.mv_refresh_log
      (view_name, status, mode, reason, strategy, attempt, started_at, finished_at, duration_ms, error_message)
    SELECT v.views[1 + i % array_length(v.views, 1)],
           CASE i % 20 WHEN 0 THEN 'failed' WHEN 1 THEN 'skipped' ELSE 'success' END,
           CASE WHEN i % 20 <> 1 THEN 'concurrent' END,
           (ARRAY['schedule', 'event', 'manual', 'api', 'cascade'])[1 + i % 5],
           CASE WHEN i % 20 > 1 THEN 'full' END,
           1,
           now() - make_interval(secs => i * ${SPACING_SECONDS}::float8),
           now() - make_interval(secs => i * ${SPACING_SECONDS}::float8),
           -- 2 ms to about 60 s, spread over the buckets.
           floor(power(10, 0.3 + (i::bigint * 7919 % 1000) / 1000.0 * 4.5))::int,
           CASE WHEN i % 20 = 0 THEN 'synthetic failure' WHEN i % 20 = 1 THEN 'already fresh' END
    FROM generate_series(0, ${rows - 1}) AS i, (SELECT ${views as string[]}::text[] AS views) v`;
  await sql`VACUUM ANALYZE mvfleet.mv_refresh_log`;
  await sql`VACUUM ANALYZE mvfleet.mv_refresh_totals`;
}

/** Times `requests` GETs of each path, alternating paths so machine noise lands on all alike. */
async function timeRequests(baseUrl: string, paths: readonly string[], requests: number): Promise<Map<string, number[]>> {
  const times = new Map<string, number[]>(paths.map((path) => [path, []]));
  const warmup = 3;
  for (let i = 0; i < warmup + requests; i += 1) {
    for (const path of i % 2 === 0 ? paths : [...paths].reverse()) {
      const start = performance.now();
      const response = await fetch(`${baseUrl}${path}`);
      await response.text();
      const ms = since(start);
      if (response.status !== 200) throw new Error(`metrics-scale: GET ${path} answered ${response.status}`);
      if (i >= warmup) times.get(path)!.push(ms);
    }
  }
  return times;
}

export const metricsScaleScenario: Scenario = async (context) => {
  const { catalog, workload } = context;
  const out = figureSet();
  const { logRows, requests } = workload.metricsScale;
  const database = `${context.options.database}_metrics`;
  await context.db.sql.unsafe(`DROP database IF EXISTS "${database}" WITH (FORCE)`);
  await context.db.sql.unsafe(`CREATE database "${database}"`);
  const db = createDb({ url: withDatabase(context.databaseUrl, database), max: 4, applicationName: 'mvfleet-bench' });
  const queueBackend = createRedisQueueBackend({ url: context.redisUrl, prefix: context.prefix('metrics-scale'), role: 'producer' });
  const queue = createRefreshQueue(queueBackend);
  const dashboard = createDashboard({ sql: db.sql, catalog, queue });
  try {
    await migrate({ sql: db.sql, catalog, migrationsFolder: demoConfig.migrations });
    const { url } = await dashboard.listen(0);
    const paths = ['/metrics', '/api/stats?days=1', '/api/stats?days=7'] as const;
    const keys: Record<(typeof paths)[number], string> = { '/metrics': 'metrics', '/api/stats?days=1': 'stats_1d', '/api/stats?days=7': 'stats_7d' };
    const p50 = new Map<string, number>();
    for (const rows of logRows) {
      const size = rows >= 1_000_000 ? `${rows / 1_000_000}M` : `${rows / 1_000}k`;
      context.log(`metrics-scale: ${size} refresh-log rows`);
      const fillStart = performance.now();
      await fillLog(db.sql, catalog.views.map((view) => view.name), rows);
      out.add(`fill.${size}_ms`, since(fillStart), 'ms', `insert ${size} log rows (totals kept by the trigger) + VACUUM ANALYZE`);
      const [{ totals }] = await db.sql<[{ totals: number }]>`SELECT count(*)::int AS totals FROM mvfleet.mv_refresh_totals`;
      out.add(`totals_rows.${size}`, totals, 'count', `rows in mv_refresh_totals at ${size} log rows`);
      for (const days of [1, 7]) {
        const [{ inWindow }] = await db.sql<[{ inWindow: number }]>`
          SELECT count(*)::int AS "inWindow" FROM mvfleet.mv_refresh_log WHERE started_at > now() - make_interval(days => ${days})`;
        out.add(`window_rows.${days}d.${size}`, inWindow, 'count', `log rows inside /api/stats?days=${days} at ${size}`);
      }
      const times = await timeRequests(url, paths, requests);
      for (const path of paths) {
        const summary = summarize(times.get(path)!);
        p50.set(`${keys[path]}.${size}`, summary.p50);
        out.add(`${keys[path]}.${size}.p50_ms`, summary.p50, 'ms', `GET ${path} at ${size} log rows, median`);
        out.add(`${keys[path]}.${size}.p99_ms`, summary.p99, 'ms', `GET ${path} at ${size} log rows, p99`);
      }
      const scans: number[] = [];
      for (let i = 0; i < Math.min(requests, 10); i += 1) {
        const start = performance.now();
        await db.sql.unsafe(WHOLE_LOG_SCAN);
        scans.push(since(start));
      }
      out.add(`whole_log_scan.${size}.p50_ms`, summarize(scans).p50, 'ms', `the grouped whole-log scan /metrics ran before the totals, at ${size}, median`);
    }
    const [small, large] = [logRows[0]!, logRows.at(-1)!].map((rows) => (rows >= 1_000_000 ? `${rows / 1_000_000}M` : `${rows / 1_000}k`));
    for (const key of Object.values(keys)) {
      out.add(`${key}.ratio_p50`, ratio(p50.get(`${key}.${large}`)!, p50.get(`${key}.${small}`)!), 'x', `${key}: median at ${large} / at ${small} log rows`);
    }
    out.note(`Synthetic log: one finished attempt every ${SPACING_SECONDS} s over the catalog's views (5% failed, 5% skipped); a larger log is a longer history with the same recent rows.`);
    out.note('Requests over HTTP to an in-process dashboard with its own registry (Node process metrics included); each path alternates with the others.');
  } finally {
    await dashboard.close();
    await queue.close();
    await queueBackend.close();
    await db.close();
    await context.db.sql.unsafe(`DROP database IF EXISTS "${database}" WITH (FORCE)`);
  }
  return out;
};
