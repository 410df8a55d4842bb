import type { CatalogView } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { groupByShape, keyColumnsOf, type KeyPattern } from '../catalog/event-keys.js';
import { quoteIdent } from '../core/identifiers.js';
import { quoteQualified, type EngineStore } from '../store/engine-schema.js';

/**
 * The SQL of keyed views: recomputing a set of keys in a table-stored view, and rebuilding
 * such a table without blocking its readers (the dirty keys are drained by `beginRefresh`). Every statement runs in
 * the refresh transaction, under the view's fence. Identifiers come from the catalog and are
 * quoted; keys travel as array parameters, one per scope key column (`$1`, `$2`, …).
 */

const columnList = (view: CatalogView, alias?: string) =>
  view.columns.map((column) => (alias ? `${alias}.${quoteIdent(column)}` : quoteIdent(column))).join(', ');

/** The scope key columns a set of keys gives (all of them, or those `present` marks). */
const givenColumns = (view: CatalogView, present?: readonly boolean[]) =>
  view.keyed!.scopeKey.filter((_, index) => !present || present[index]);

/** The distinct keys passed as parameters, as a relation with the given columns' names. */
export function keyRelation(view: CatalogView, present?: readonly boolean[]): string {
  const scope = givenColumns(view, present);
  const arrays = scope.map((column, index) => `$${index + 1}::${column.sqlType}[]`).join(', ');
  return `(SELECT DISTINCT * FROM unnest(${arrays}) AS k(${scope.map((column) => quoteIdent(column.name)).join(', ')}))`;
}

/** `(alias.k1, alias.k2) IN <the keys>`: rows of the key set (of a partial key set: matching its given columns). */
export function inKeys(view: CatalogView, alias: string, present?: readonly boolean[]): string {
  const scope = givenColumns(view, present).map((column) => `${alias}.${quoteIdent(column.name)}`);
  return `(${scope.join(', ')}) IN ${keyRelation(view, present)}`;
}

/**
 * `recorded.key` (a key in `mv_dirty_keys`, as jsonb) matches the row `row` of the view: each
 * value equals the row's, or is null (a partial key, matching every value of its column).
 * Compared as jsonb, never cast, so a malformed recorded key cannot fail the statement.
 */
export function recordedKeyMatches(view: CatalogView, recorded: string, row?: string): string {
  return view
    .keyed!.scopeKey.map((column, index) => `(${recorded}.key -> ${index}) IN ('null'::jsonb, to_jsonb(${row ? `${row}.` : ''}${quoteIdent(column.name)}))`)
    .join(' AND ');
}

/**
 * A targeted refresh: the keys' rows are recomputed from the key-restricted definition,
 * upserted (a row whose values did not change is left alone: no new version, no WAL), and
 * the keys' stored rows the definition no longer gives are deleted (a key gone from the
 * sources disappears). One statement per shape of key (full keys; each kind of partial key,
 * which recomputes every row matching the part it gives), all in the refresh transaction, so
 * readers see every key either before or after, never missing.
 */
export async function recomputeKeys(
  tx: Queryable,
  view: CatalogView,
  keys: readonly KeyPattern[],
): Promise<{ inserted: number; updated: number; deleted: number }> {
  const total = { inserted: 0, updated: 0, deleted: 0 };
  for (const group of groupByShape(keys)) {
    const counts = await recomputeShape(tx, view, group.keys, group.present);
    total.inserted += counts.inserted;
    total.updated += counts.updated;
    total.deleted += counts.deleted;
  }
  return total;
}

/** One statement of {@link recomputeKeys}: keys that all give the `present` columns. The upsert and the delete touch disjoint rows. */
async function recomputeShape(
  tx: Queryable,
  view: CatalogView,
  keys: readonly KeyPattern[],
  present: readonly boolean[],
): Promise<{ inserted: number; updated: number; deleted: number }> {
  const target = quoteIdent(view.name);
  const columns = view.columns.map(quoteIdent);
  const unique = view.uniqueKey.map(quoteIdent);
  const [row] = await tx.unsafe<[{ inserted: number; updated: number; deleted: number }]>(
    `WITH fresh AS MATERIALIZED (
       SELECT ${columnList(view, 'd')} FROM (${view.keyed!.keyedSqlFor(present)}) AS d WHERE ${inKeys(view, 'd', present)}
     ), upserted AS (
       INSERT INTO ${target} AS t (${columnList(view)}) SELECT ${columnList(view)} FROM fresh
       ON CONFLICT (${unique.join(', ')}) DO UPDATE SET ${columns.map((column) => `${column} = excluded.${column}`).join(', ')}
       WHERE (${columnList(view, 't')}) IS DISTINCT FROM (${columnList(view, 'excluded')})
       RETURNING (t.xmax = 0) AS inserted
     ), removed AS (
       DELETE FROM ${target} AS v
       WHERE ${inKeys(view, 'v', present)} AND NOT EXISTS (SELECT 1 FROM fresh AS f WHERE ${unique.map((c) => `f.${c} = v.${c}`).join(' AND ')})
       RETURNING 1
     )
     SELECT count(*) FILTER (WHERE inserted)::int AS inserted, count(*) FILTER (WHERE NOT inserted)::int AS updated,
            (SELECT count(*) FROM removed)::int AS deleted
     FROM upserted`,
    keyColumnsOf(view, keys, present),
    // Prepared (the text is fixed per view and shape): parsing, describing and planning the
    // view's definition costs more than recomputing one key (measured 1.1 vs 0.6 ms per statement).
    { prepare: true },
  );
  return row;
}

/**
 * A full rebuild of a table-stored view that never blocks readers: the definition is
 * computed into a temporary table, then only rows that differ are deleted and inserted (as
 * REFRESH … CONCURRENTLY does for an MV). Rows changed outside the `announced` keys (the
 * dirty keys this refresh drained, and those recorded while it ran) are counted: they are
 * changes whose event never came.
 */
export async function rebuildTable(
  tx: Queryable, store: EngineStore,
  view: CatalogView,
  announced: readonly KeyPattern[],
): Promise<{ rowsAfter: number; rowsCorrected: number }> {
  const target = quoteIdent(view.name);
  const unique = view.uniqueKey.map(quoteIdent);
  const sameKey = (a: string, b: string) => unique.map((column) => `${a}.${column} = ${b}.${column}`).join(' AND ');
  const scope = view.keyed!.scopeKey.map((column) => quoteIdent(column.name));
  // Announced: the keys this refresh drained, and keys recorded since (visible to the later
  // statements): an app commits its write and then emits, so a write that just made it into
  // the rebuild usually has its key recorded by the time rows are compared. Only what is
  // still unannounced then counts as corrected. Recorded keys are compared as jsonb, never
  // cast, so a malformed one cannot fail the rebuild.
  const viewParam = `$${scope.length + 1}`;
  // A partial key (a null value) announces every value of its missing columns.
  const unannounced = (alias: string) =>
    `WHERE NOT EXISTS (SELECT 1 FROM ${keyRelation(view)} AS a
                       WHERE ${scope.map((column) => `(a.${column} IS NULL OR a.${column} = ${alias}.${column})`).join(' AND ')})
       AND NOT EXISTS (SELECT 1 FROM ${quoteQualified(store.dirtyKeys)} AS r
                       WHERE r.view_name = ${viewParam}::text AND ${recordedKeyMatches(view, 'r', alias)})`;
  const params = [...keyColumnsOf(view, announced), view.name];

  // LIKE the target, so values take the table's types (e.g. its numeric scale) before they are compared.
  await tx.unsafe(`CREATE TEMPORARY TABLE mvfleet_rebuild (LIKE ${target}) ON COMMIT DROP`);
  const built = await tx.unsafe(
    `INSERT INTO mvfleet_rebuild (${columnList(view)}) SELECT ${columnList(view, 'd')} FROM (${view.definitionSql}) AS d`,
  );
  const [removed] = await tx.unsafe<[{ count: number }]>(
    `WITH stale AS (
       SELECT ${columnList(view)} FROM ${target} EXCEPT SELECT ${columnList(view)} FROM mvfleet_rebuild
     ), gone AS (
       DELETE FROM ${target} AS v USING stale AS s WHERE ${sameKey('v', 's')} RETURNING ${columnList(view, 'v')}
     )
     SELECT count(*)::float8 AS count
     FROM gone AS g
     LEFT JOIN mvfleet_rebuild AS f ON ${sameKey('f', 'g')}
     ${unannounced('g')} AND f.${unique[0]} IS NULL`,
    params,
  );
  const [added] = await tx.unsafe<[{ count: number }]>(
    `WITH added AS (
       INSERT INTO ${target} (${columnList(view)})
       SELECT ${columnList(view)} FROM mvfleet_rebuild EXCEPT SELECT ${columnList(view)} FROM ${target}
       RETURNING ${scope.join(', ')}
     )
     SELECT count(*)::float8 AS count FROM added AS g ${unannounced('g')}`,
    params,
  );
  await tx.unsafe(`DROP TABLE mvfleet_rebuild`);
  await markPopulated(tx, store, view);
  return { rowsAfter: built.count, rowsCorrected: removed.count + added.count };
}

/** Replaces every row at once (a forced plain refresh of a table): no diff, nothing counted as corrected. */
export async function replaceTable(tx: Queryable, store: EngineStore, view: CatalogView): Promise<{ rowsAfter: number }> {
  const target = quoteIdent(view.name);
  await tx.unsafe(`DELETE FROM ${target}`);
  const inserted = await tx.unsafe(
    `INSERT INTO ${target} (${columnList(view)}) SELECT ${columnList(view, 'd')} FROM (${view.definitionSql}) AS d`,
  );
  await markPopulated(tx, store, view);
  return { rowsAfter: inserted.count };
}

/** Records that this incarnation of the table holds a complete build (see `mv_table_state`). */
async function markPopulated(tx: Queryable, store: EngineStore, view: CatalogView): Promise<void> {
  await tx`
    INSERT INTO ${tx(store.tableState)} (view_name, relid, definition_md5, populated_at)
    VALUES (${view.name}, to_regclass(${quoteIdent(view.name)})::oid::bigint, ${view.fingerprint}, clock_timestamp())
    ON CONFLICT (view_name) DO UPDATE
    SET relid = excluded.relid, definition_md5 = excluded.definition_md5, populated_at = excluded.populated_at`;
}
