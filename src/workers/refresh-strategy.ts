import type { CatalogView } from '../catalog/catalog.js';
import { partitionKeys } from '../catalog/event-keys.js';
import type { Queryable } from '../core/db.js';
import type { RefreshMode, RefreshStrategy } from '../store/refresh-log.js';
import { rebuildTable, recomputeKeys, replaceTable } from './keyed-refresh-sql.js';
import { PermanentRefreshError } from './refresh-errors.js';
import { countRows, refreshStatement, type RefreshStart } from './refresh-sql.js';
import type { EngineStore } from '../store/engine-schema.js';

/** How to refresh: `auto` picks CONCURRENTLY when the view allows it. */
export type ModePreference = 'auto' | 'plain' | 'concurrent';

/** What a request asks for: the whole view, or the keys events recorded as dirty. */
export type RefreshScope = 'view' | 'keys';

/** What a refresh did, for the log and the outcome. */
export interface AppliedRefresh {
  mode: RefreshMode;
  strategy: RefreshStrategy;
  /** Keyed views: the dirty keys drained; null otherwise. */
  keysRefreshed: number | null;
  /** Full rebuilds of tables: rows changed outside the announced keys; null otherwise. */
  rowsCorrected: number | null;
  rowsAfter: number;
  /** Drained keys that do not fit the view's scope key: dropped, and the view rebuilt whole. */
  discardedKeys: unknown[];
}

/** Decides the mode of an MV refresh; throws when a forced CONCURRENTLY cannot run. */
export function chooseMode(view: CatalogView, state: RefreshStart, preference: ModePreference): RefreshMode {
  if (preference === 'plain') return 'plain';
  const concurrentPossible = state.populated && state.hasUsableUniqueIndex;
  if (preference === 'concurrent' && !concurrentPossible) {
    const why = state.populated ? 'it has no usable unique index (run mvfleet migrate)' : 'it is not populated yet';
    throw new PermanentRefreshError(`cannot refresh ${view.name} concurrently: ${why}`, '55000', null);
  }
  return concurrentPossible ? 'concurrent' : 'plain';
}

/**
 * Whether a table-stored view's refresh may recompute just its dirty keys: the request asks
 * for keys, the table holds a complete build, and the keys are few enough. Past
 * `fullRebuildShare` of the view's rows, one pass over everything is cheaper than per-key work.
 */
export function targetedPossible(
  view: CatalogView,
  state: RefreshStart,
  request: { scope: RefreshScope; mode: ModePreference },
  keys: number,
): boolean {
  if (request.scope !== 'keys' || request.mode === 'plain' || !state.populated || state.lastRows === null) return false;
  return keys <= view.keyed!.fullRebuildShare * state.lastRows;
}

/**
 * Runs the refresh in `tx` (which holds the view's fence): REFRESH MATERIALIZED VIEW for an
 * MV; for a table, a targeted recompute of the dirty keys or a full diff-apply rebuild.
 * Keyed views drained their dirty keys when the transaction began (`state.drainedKeys`), so a
 * refresh that fails keeps them.
 *
 * `modeDecided` is called once the mode is known, before the long statement starts.
 */
export async function applyRefresh(
  tx: Queryable,
  store: EngineStore,
  view: CatalogView,
  state: RefreshStart,
  request: { scope: RefreshScope; mode: ModePreference },
  modeDecided: (mode: RefreshMode) => void,
): Promise<AppliedRefresh> {
  if (state.storage !== view.storage) {
    const found = state.storage === 'table' ? 'a table' : 'a materialized view';
    throw new PermanentRefreshError(
      `${view.name} is ${found}, the catalog says ${view.storage}: generate the migration (drizzle-kit generate) and run mvfleet migrate`,
      '42809',
      null,
    );
  }
  if (view.storage === 'materialized') {
    const mode = chooseMode(view, state, request.mode);
    modeDecided(mode);
    const keys = view.keyed ? state.drainedKeys : null;
    await tx.unsafe(refreshStatement(view.name, mode));
    const rowsAfter = await countRows(tx, view.name);
    return { mode, strategy: 'full', keysRefreshed: keys?.length ?? null, rowsCorrected: null, rowsAfter, discardedKeys: [] };
  }

  // Tables never block readers: targeted and diff-apply refreshes change rows under MVCC.
  const mode: RefreshMode = request.mode === 'plain' ? 'plain' : 'concurrent';
  modeDecided(mode);
  const { valid: keys, invalid: discardedKeys } = partitionKeys(view, state.drainedKeys);
  if (discardedKeys.length === 0 && targetedPossible(view, state, request, keys.length)) {
    const { deleted, inserted } = keys.length > 0 ? await recomputeKeys(tx, view, keys) : { deleted: 0, inserted: 0 };
    // Updated rows replace themselves: the count changes by keys that appeared or disappeared.
    const rowsAfter = state.lastRows! - deleted + inserted;
    return { mode, strategy: 'targeted', keysRefreshed: keys.length, rowsCorrected: null, rowsAfter, discardedKeys };
  }
  if (mode === 'plain') {
    const { rowsAfter } = await replaceTable(tx, store, view);
    return { mode, strategy: 'full', keysRefreshed: keys.length, rowsCorrected: null, rowsAfter, discardedKeys };
  }
  const { rowsAfter, rowsCorrected } = await rebuildTable(tx, store, view, keys);
  // A first build fills an empty table: nothing was corrected, and no drift can be told.
  const corrected = state.populated ? rowsCorrected : null;
  return { mode, strategy: 'full', keysRefreshed: keys.length, rowsCorrected: corrected, rowsAfter, discardedKeys };
}
