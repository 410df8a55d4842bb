/**
 * Upper bounds of the refresh duration histogram, in seconds: 1 ms to an hour. Targeted
 * refreshes take a few milliseconds and full rebuilds of large views many minutes; with a
 * smallest bound of 0.1 s, `histogram_quantile` put every fast view's p95 at 0.095 s.
 *
 * The engine's totals table (`mv_refresh_totals`) counts attempts by these bounds as they
 * finish, so changing them takes an engine migration that re-buckets its counts.
 */
export const REFRESH_DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
] as const;

/**
 * Thresholds for `width_bucket(duration_ms, thresholds)`, which counts thresholds <= d. With
 * integer milliseconds and thresholds `floor(bound) + 1` that is the number of bounds < d, so
 * an attempt lands in the first bucket whose bound it does not exceed (Prometheus's `le`);
 * the result equals the number of bounds (`+Inf`) above the last one.
 */
export function durationBucketThresholdsMs(): number[] {
  return REFRESH_DURATION_BUCKETS.map((seconds) => Math.floor(seconds * 1_000) + 1);
}
