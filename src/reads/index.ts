/** Freshness-aware reads: MV speed with honest cache metadata, live fallback when stale. */
export { createReader, type CacheInfo, type Reader, type ReadResult, type ViewRow } from './reader.js';
export type { GetOptions, ListOptions, ReaderOptions } from './reader-options.js';
export type { KeyValue, OrderBy, RowFilter, RowKey } from './read-conditions.js';
export type { ReadSource } from './read-metrics.js';
export { InvalidReadError } from './read-errors.js';
