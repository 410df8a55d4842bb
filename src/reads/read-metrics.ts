import { Counter, Histogram, type Registry } from 'prom-client';
import { ConfigError } from '../core/errors.js';

/** Where an answer came from. */
/**
 * `materialized`: read from the view; `live`: computed now because the view was too old (or
 * `live: true`); `live_pending`: computed now because the key waits for a targeted refresh.
 */
export type ReadSource = 'materialized' | 'live' | 'live_pending';

/** Records one read. */
export interface ReadMetrics {
  observe(view: string, source: ReadSource, seconds: number): void;
}

const LABELS = ['view', 'source'] as const;

/** From 0.1 ms (an index lookup on an MV) to 5 s (a live aggregate over a large table). */
export const READ_DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
] as const;

/**
 * `mvfleet_reads_total{view,source}` and `mvfleet_read_duration_seconds{view,source}` in
 * `registry`. Metrics already registered there (by another reader on the same registry)
 * are reused rather than registered twice, which prom-client refuses.
 */
export function createReadMetrics(registry: Registry): ReadMetrics {
  const reads = existing(registry, 'mvfleet_reads_total', Counter) ??
    new Counter({
      name: 'mvfleet_reads_total',
      help: 'Reads answered by the reader, by view and source (materialized, live, or live_pending for keys awaiting a targeted refresh).',
      labelNames: LABELS,
      registers: [registry],
    });
  const duration = existing(registry, 'mvfleet_read_duration_seconds', Histogram) ??
    new Histogram({
      name: 'mvfleet_read_duration_seconds',
      help: 'Duration of reads, freshness lookup included, by view and source.',
      labelNames: LABELS,
      buckets: [...READ_DURATION_BUCKETS],
      registers: [registry],
    });
  return {
    observe(view, source, seconds) {
      reads.inc({ view, source });
      duration.observe({ view, source }, seconds);
    },
  };
}

function existing<T>(registry: Registry, name: string, type: abstract new (...args: never[]) => T): T | undefined {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return undefined;
  if (!(metric instanceof type)) throw new ConfigError(`registry already has a metric ${name} of another type`);
  return metric;
}
