import { createHash } from 'node:crypto';
import type { CatalogView } from '../src/catalog/catalog.js';
import type { Queryable } from '../src/core/db.js';
import { quoteIdent } from '../src/core/identifiers.js';

/**
 * The name of a view's MV copy in the bench database: `bench_mv_<view>` (a leading `mv_` of
 * the view's name is not repeated).
 */
export function mvCopyName(view: CatalogView): string {
  return `bench_mv_${view.name.replace(/^mv_/, '')}`.slice(0, 63);
}

/**
 * A materialized view over the same definition as a table-stored catalog view, with a unique
 * index on its unique key: what the view would cost had it stayed an MV (a full REFRESH
 * CONCURRENTLY, as the naive strategies and the plain/CONCURRENTLY comparison run).
 *
 * Built once per definition: a hash of the view's fingerprint and unique key is the MV's comment, so a changed catalog
 * rebuilds the copy and an unchanged one reuses it (a CONCURRENTLY refresh brings it current).
 * @returns the copy's name.
 */
export async function ensureMvCopy(sql: Queryable, view: CatalogView): Promise<string> {
  const name = mvCopyName(view);
  const hash = createHash('md5').update(`${view.fingerprint}:${view.uniqueKey.join(',')}`).digest('hex');
  const [existing] = await sql<{ comment: string | null }[]>`
    SELECT obj_description(c.oid, 'pg_class') AS comment
    FROM pg_class c WHERE c.relname = ${name} AND c.relkind = 'm' AND c.relnamespace = 'public'::regnamespace`;
  if (existing?.comment === hash) return name;
  const target = quoteIdent(name);
  await sql.unsafe(`DROP MATERIALIZED VIEW IF EXISTS ${target}`);
  await sql.unsafe(`CREATE MATERIALIZED VIEW ${target} AS ${view.definitionSql}`);
  await sql.unsafe(`CREATE UNIQUE INDEX ${quoteIdent(`${name.slice(0, 58)}_key`)} ON ${target} (${view.uniqueKey.map(quoteIdent).join(', ')})`);
  await sql.unsafe(`ANALYZE ${target}`);
  await sql.unsafe(`COMMENT ON MATERIALIZED VIEW ${target} IS '${hash}'`);
  return name;
}

/** The relation that stands for `view` in a bare `REFRESH MATERIALIZED VIEW`: the view itself, or its MV copy. */
export async function refreshableName(sql: Queryable, view: CatalogView): Promise<string> {
  return view.storage === 'materialized' ? view.name : ensureMvCopy(sql, view);
}
