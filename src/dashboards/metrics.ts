import type { Queue } from 'bullmq';
import { Gauge, type Metric, type Registry } from 'prom-client';
import type { Catalog } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import type { Logger } from '../core/logger.js';
import { readPendingKeys, type PendingKeysRow } from './pending-keys.js';
import {
  readLastSuccessAges,
  readRefreshLogBuckets,
  readRefreshStrategyTotals,
  type LastSuccessRow,
  type RefreshLogBucketRow,
  type RefreshStrategyRow,
} from './refresh-log-totals.js';
import { withTimeout } from '../core/with-timeout.js';
import { REFRESH_DURATION_BUCKETS } from '../store/refresh-duration-buckets.js';

/**
 * Refresh metrics are computed on scrape from the refresh log's running totals
 * (`mv_refresh_totals`), not counted in this process: refreshes run in worker processes on
 * other hosts, and the log is the one place that sees the whole fleet and survives restarts.
 * The totals are kept by the statements that write the log and survive its pruning, so
 * counters only grow, and a scrape reads a few rows per view at any log size.
 *
 * When PostgreSQL or the queue backend does not answer, the series read from it are left out
 * and `mvfleet_postgres_up` / `mvfleet_queue_up` say 0: missing data is never silent.
 */

export { REFRESH_DURATION_BUCKETS } from '../store/refresh-duration-buckets.js';

/** What {@link registerDashboardMetrics} needs. */
export interface DashboardMetricsDeps {
  registry: Registry;
  sql: Queryable;
  catalog: Catalog;
  queue: Queue;
  logger: Logger;
  /** Bound on each datastore call of one scrape, in milliseconds. */
  timeoutMs: number;
}

interface LogSnapshot {
  buckets: RefreshLogBucketRow[];
  ages: LastSuccessRow[];
  strategies: RefreshStrategyRow[];
  /** From `mv_dirty_keys`, read with the log so one scrape shows one moment. */
  pending: PendingKeysRow[];
}

type Values = { metricName?: string; labels: Record<string, string>; value: number }[];

/**
 * A metric whose samples are computed by `values()` at scrape time. prom-client's own
 * Counter and Histogram can only be incremented or observed, not set to totals read from
 * the log, so this object speaks the registry's metric interface directly.
 */
function computedMetric(config: { name: string; help: string; type: 'counter' | 'histogram'; values: () => Promise<Values> }): Metric {
  const metric = {
    name: config.name,
    help: config.help,
    type: config.type,
    aggregator: 'first',
    collect: () => {},
    reset: () => {},
    get: async () => ({ name: config.name, help: config.help, type: config.type, aggregator: 'first', values: await config.values() }),
  };
  return metric as unknown as Metric;
}

/** Registers the fleet metrics on `registry`; returns a function removing them again. */
export function registerDashboardMetrics({ registry, sql, catalog, queue, logger, timeoutMs }: DashboardMetricsDeps): () => void {
  const views = catalog.views.map((view) => view.name);
  const keyedViews = catalog.views.filter((view) => view.keyed !== null).map((view) => view.name);
  const tableViews = catalog.views.filter((view) => view.storage === 'table').map((view) => view.name);
  let snapshot: { at: number; load: Promise<LogSnapshot | undefined> } | undefined;
  let queueSnapshot: { at: number; load: Promise<Record<string, number> | undefined> } | undefined;

  // Several metrics read the same snapshot; one scrape asks for it several times at once.
  const logSnapshot = (): Promise<LogSnapshot | undefined> => {
    if (snapshot && Date.now() - snapshot.at < 1_000) return snapshot.load;
    const load = withTimeout(
      Promise.all([readRefreshLogBuckets(sql, catalog.store), readLastSuccessAges(sql, catalog.store, views), readRefreshStrategyTotals(sql, catalog.store), readPendingKeys(sql, catalog.store)]),
      timeoutMs,
      'refresh log query',
    ).then(
      ([buckets, ages, strategies, pending]) => ({ buckets, ages, strategies, pending }),
      (error: unknown) => {
        logger.warn({ err: error }, 'metrics: cannot read the refresh log');
        return undefined;
      },
    );
    snapshot = { at: Date.now(), load };
    return load;
  };

  const queueCounts = (): Promise<Record<string, number> | undefined> => {
    if (queueSnapshot && Date.now() - queueSnapshot.at < 1_000) return queueSnapshot.load;
    const load = withTimeout(queue.getJobCounts(), timeoutMs, 'queue job counts').catch((error: unknown) => {
      logger.warn({ err: error }, 'metrics: cannot read queue job counts');
      return undefined;
    });
    queueSnapshot = { at: Date.now(), load };
    return load;
  };

  const refreshesTotal = computedMetric({
    name: 'mvfleet_refreshes_total',
    help: 'Finished refresh attempts in the refresh log, by view, status, reason and mode (fleet-wide).',
    type: 'counter',
    values: async () => {
      const totals = new Map<string, { labels: Record<string, string>; value: number }>();
      for (const row of (await logSnapshot())?.buckets ?? []) {
        const labels = { view: row.view, status: row.status, reason: row.reason, mode: row.mode };
        const key = JSON.stringify(labels);
        const entry = totals.get(key) ?? { labels, value: 0 };
        entry.value += row.count;
        totals.set(key, entry);
      }
      return [...totals.values()];
    },
  });

  // Its own series, not a `strategy` label on mvfleet_refreshes_total: a new label would end
  // that counter's existing series (and failed or skipped attempts have no strategy). Every
  // series a view can have starts at 0, so that `increase()` sees its first refresh.
  const refreshesByStrategy = computedMetric({
    name: 'mvfleet_refreshes_by_strategy_total',
    help: 'Successful refreshes in the refresh log, by view and strategy: targeted (only dirty keys recomputed) or full (fleet-wide).',
    type: 'counter',
    values: async () => {
      const result = await logSnapshot();
      if (!result) return [];
      const totals = new Map<string, { labels: Record<string, string>; value: number }>();
      const set = (view: string, strategy: string, value: number) =>
        totals.set(JSON.stringify([view, strategy]), { labels: { view, strategy }, value });
      for (const view of catalog.views) {
        set(view.name, 'full', 0);
        if (view.storage === 'table') set(view.name, 'targeted', 0);
      }
      for (const row of result.strategies) set(row.view, row.strategy, row.count);
      return [...totals.values()];
    },
  });

  /** Sums one column of the strategy totals per view, starting every view of `initial` at 0. */
  const perViewSum = (rows: readonly RefreshStrategyRow[], initial: readonly string[], pick: (row: RefreshStrategyRow) => number): Values => {
    const sums = new Map<string, number>(initial.map((view) => [view, 0]));
    for (const row of rows) {
      const value = pick(row);
      // Other views (dropped from the catalog since) show only when they have something to count.
      if (value > 0 || sums.has(row.view)) sums.set(row.view, (sums.get(row.view) ?? 0) + value);
    }
    return [...sums].map(([view, value]) => ({ labels: { view }, value }));
  };

  /** A per-view counter summed from one column of the strategy totals. */
  const strategySum = (name: string, help: string, views: readonly string[], pick: (row: RefreshStrategyRow) => number) =>
    computedMetric({
      name,
      help,
      type: 'counter',
      values: async () => {
        const result = await logSnapshot();
        return result ? perViewSum(result.strategies, views, pick) : [];
      },
    });

  const keysRefreshed = strategySum(
    'mvfleet_keys_refreshed_total',
    'Dirty keys drained by successful refreshes of keyed views, recomputed or covered by a full rebuild (sum of keys_refreshed; fleet-wide).',
    keyedViews,
    (row) => row.keys_refreshed,
  );
  const rowsCorrected = strategySum(
    'mvfleet_rows_corrected_total',
    'Rows full rebuilds of table-stored views corrected outside the keys events announced: changes whose event never came (sum of rows_corrected; fleet-wide).',
    tableViews,
    (row) => row.rows_corrected,
  );

  const durationHistogram = computedMetric({
    name: 'mvfleet_refresh_duration_seconds',
    help: 'Duration of finished refresh attempts in the refresh log, by view, status and mode (fleet-wide).',
    type: 'histogram',
    values: async () => {
      const series = new Map<string, { labels: Record<string, string>; perBucket: number[]; sumMs: number }>();
      for (const row of (await logSnapshot())?.buckets ?? []) {
        if (row.bucket === null) continue;
        const labels = { view: row.view, status: row.status, mode: row.mode };
        const key = JSON.stringify(labels);
        const entry = series.get(key) ?? { labels, perBucket: new Array<number>(REFRESH_DURATION_BUCKETS.length + 1).fill(0), sumMs: 0 };
        entry.perBucket[row.bucket] = (entry.perBucket[row.bucket] ?? 0) + row.count;
        entry.sumMs += row.sum_ms;
        series.set(key, entry);
      }
      const values: Values = [];
      for (const { labels, perBucket, sumMs } of series.values()) {
        let cumulative = 0;
        perBucket.forEach((count, index) => {
          cumulative += count;
          const le = index < REFRESH_DURATION_BUCKETS.length ? String(REFRESH_DURATION_BUCKETS[index]) : '+Inf';
          values.push({ metricName: 'mvfleet_refresh_duration_seconds_bucket', labels: { ...labels, le }, value: cumulative });
        });
        values.push({ metricName: 'mvfleet_refresh_duration_seconds_sum', labels, value: sumMs / 1_000 });
        values.push({ metricName: 'mvfleet_refresh_duration_seconds_count', labels, value: cumulative });
      }
      return values;
    },
  });

  const staleness = new Gauge({
    name: 'mvfleet_view_staleness_seconds',
    help: 'Seconds since the data of each view was read (start of its last successful refresh); absent if never refreshed.',
    labelNames: ['view'],
    registers: [],
    async collect() {
      this.reset();
      for (const row of (await logSnapshot())?.ages ?? []) this.set({ view: row.view }, row.age_seconds);
    },
  });

  const stale = new Gauge({
    name: 'mvfleet_view_stale',
    help: '1 when a view is older than its freshForMinutes threshold or was never refreshed, else 0.',
    labelNames: ['view'],
    registers: [],
    async collect() {
      this.reset();
      const result = await logSnapshot();
      if (!result) return;
      const ages = new Map(result.ages.map((row) => [row.view, row.age_seconds]));
      for (const view of catalog.views) {
        const age = ages.get(view.name);
        this.set({ view: view.name }, age === undefined || age > view.freshForMinutes * 60 ? 1 : 0);
      }
    },
  });

  const freshFor = new Gauge({
    name: 'mvfleet_view_fresh_for_seconds',
    help: 'Staleness threshold of each view from the catalog (freshForMinutes), for alert rules.',
    labelNames: ['view'],
    registers: [],
    collect() {
      for (const view of catalog.views) this.set({ view: view.name }, view.freshForMinutes * 60);
    },
  });

  const allViews = catalog.views.map((view) => view.name);
  /**
   * A per-view gauge of what waits for a refresh, 0 for views with nothing waiting. Reported
   * for the views `labelled` names (every catalog view by default), given what waits.
   */
  const waitingGauge = (
    name: string,
    help: string,
    pick: (row: PendingKeysRow) => number,
    labelled: (waiting: ReadonlyMap<string, number>) => Iterable<string> = () => allViews,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['view'],
      registers: [],
      async collect() {
        this.reset();
        const result = await logSnapshot();
        if (!result) return;
        const pending = new Map(result.pending.map((row) => [row.view, pick(row)]));
        for (const view of labelled(pending)) this.set({ view }, pending.get(view) ?? 0);
      },
    });
  const pendingKeys = waitingGauge(
    'mvfleet_pending_keys',
    'Distinct keys of each keyed view that events recorded in mv_dirty_keys and no refresh has drained yet.',
    (row) => row.pending_keys,
    (waiting) => new Set([...keyedViews, ...waiting.keys()]),
  );
  const pendingRequests = waitingGauge(
    'mvfleet_pending_requests',
    'Whole-view refresh requests (events, capture, manual, cascade; schedule ticks aside) no refresh has covered yet.',
    (row) => row.pending_requests,
  );
  const oldestPending = waitingGauge(
    'mvfleet_oldest_pending_seconds',
    "Age of the oldest recorded change (pending key or whole-view request) no refresh has covered yet, 0 when none: the view's true staleness.",
    (row) => row.oldest_pending_seconds,
  );

  const queueJobs = new Gauge({
    name: 'mvfleet_queue_jobs',
    help: 'Jobs in the refresh queue by state, read from the queue backend at scrape time.',
    labelNames: ['queue', 'state'],
    registers: [],
    async collect() {
      this.reset();
      for (const [state, count] of Object.entries((await queueCounts()) ?? {})) this.set({ queue: queue.name, state }, count);
    },
  });

  const postgresUp = new Gauge({
    name: 'mvfleet_postgres_up',
    help: 'Whether this scrape could read the refresh totals and pending keys from PostgreSQL (1) or not (0: the refresh series are missing from this scrape).',
    registers: [],
    async collect() {
      this.set((await logSnapshot()) ? 1 : 0);
    },
  });

  const queueUp = new Gauge({
    name: 'mvfleet_queue_up',
    help: 'Whether this scrape could read job counts from the queue backend (1) or not (0: mvfleet_queue_jobs is missing from this scrape).',
    labelNames: ['queue'],
    registers: [],
    async collect() {
      this.set({ queue: queue.name }, (await queueCounts()) ? 1 : 0);
    },
  });

  const metrics: Record<string, Metric> = {
    mvfleet_refreshes_total: refreshesTotal,
    mvfleet_refreshes_by_strategy_total: refreshesByStrategy,
    mvfleet_keys_refreshed_total: keysRefreshed,
    mvfleet_rows_corrected_total: rowsCorrected,
    mvfleet_pending_keys: pendingKeys,
    mvfleet_pending_requests: pendingRequests,
    mvfleet_oldest_pending_seconds: oldestPending,
    mvfleet_refresh_duration_seconds: durationHistogram,
    mvfleet_view_staleness_seconds: staleness,
    mvfleet_view_stale: stale,
    mvfleet_view_fresh_for_seconds: freshFor,
    mvfleet_queue_jobs: queueJobs,
    mvfleet_postgres_up: postgresUp,
    mvfleet_queue_up: queueUp,
  };
  for (const metric of Object.values(metrics)) registry.registerMetric(metric);
  return () => {
    for (const name of Object.keys(metrics)) registry.removeSingleMetric(name);
  };
}
