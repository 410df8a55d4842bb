import { collectDefaultMetrics, type Registry } from 'prom-client';

/**
 * prom-client's default metrics include three gauges named like counters, which
 * `promtool check metrics` rejects (a `_total` suffix promises a counter to `rate()`). Each
 * repeats the sum of a per-type gauge that stays: `sum(nodejs_active_handles)` and so on.
 */
const GAUGES_NAMED_LIKE_COUNTERS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Registers prom-client's default Node process metrics on `registry`, less the misnamed gauges. */
export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of GAUGES_NAMED_LIKE_COUNTERS) registry.removeSingleMetric(name);
}
