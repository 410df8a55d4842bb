import type { CatalogView } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { toDate } from '../core/pg-values.js';
import type { EngineStore } from '../store/engine-schema.js';
import { freshnessStatement } from './read-sql.js';

/** What the reader knows about a view's contents. */
export interface Freshness {
  /** The view holds data: a refreshed MV, or a table with a complete build (false also when it does not exist). */
  populated: boolean;
  /** Start of the last successful refresh; null when the log has none. */
  asOf: Date | null;
}

/** Per-view {@link Freshness}, looked up at most once per `ttlMs` per view. */
export interface FreshnessCache {
  get(view: CatalogView): Promise<Freshness>;
  /** Forgets one view, or every view. */
  clear(view?: string): void;
}

/**
 * Caches freshness lookups so a read costs one indexed query per view and `ttlMs`, not
 * one per read. A cached `asOf` can only be older than the truth (refreshes move it
 * forward), so caching can make the reader go live needlessly but never serve an MV
 * older than the caller allowed. Concurrent reads of a view share one lookup.
 */
export function createFreshnessCache(options: { sql: Queryable; store: EngineStore; ttlMs: number; now: () => Date }): FreshnessCache {
  const { sql, store, ttlMs, now } = options;
  const entries = new Map<string, { value: Promise<Freshness>; expiresAt: number }>();

  const lookup = async (view: CatalogView): Promise<Freshness> => {
    const statement = freshnessStatement(store, view);
    const [row] = await sql.unsafe<{ populated: boolean | null; as_of: Date | string | null }[]>(statement.text, statement.params);
    return { populated: row?.populated === true, asOf: toDate(row?.as_of ?? null) };
  };

  return {
    get(view) {
      const at = now().getTime();
      const cached = entries.get(view.name);
      if (cached && at < cached.expiresAt) return cached.value;
      const value = lookup(view);
      entries.set(view.name, { value, expiresAt: at + ttlMs });
      // A failed lookup is not cached: the next read tries again.
      value.catch(() => {
        if (entries.get(view.name)?.value === value) entries.delete(view.name);
      });
      return value;
    },
    clear(view) {
      if (view === undefined) entries.clear();
      else entries.delete(view);
    },
  };
}
