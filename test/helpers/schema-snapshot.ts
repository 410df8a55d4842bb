import type { Queryable } from '../../src/core/db.js';

/**
 * Identity of every relation in the public schema (oid and file node): any DROP, CREATE,
 * REFRESH or REINDEX changes it, so equal snapshots mean nothing was touched.
 */
export async function relationSnapshot(sql: Queryable): Promise<string[]> {
  const rows = await sql<{ entry: string }[]>`
    SELECT concat_ws(':', c.relname, c.relkind::text, c.oid::text, c.relfilenode::text) AS entry
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public'
    ORDER BY c.relname`;
  return rows.map((row) => row.entry);
}

/** Index names and column lists of a relation, as `name(col, col) unique?`. */
export async function indexesOf(sql: Queryable, relation: string): Promise<string[]> {
  const rows = await sql<{ entry: string }[]>`
    SELECT i.relname || '(' || string_agg(a.attname, ', ' ORDER BY k.ord) || ')' ||
           CASE WHEN ix.indisunique THEN ' unique' ELSE '' END AS entry
    FROM pg_index ix
    JOIN pg_class i ON i.oid = ix.indexrelid
    CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
    WHERE ix.indrelid = to_regclass(${relation})
    GROUP BY i.relname, ix.indisunique
    ORDER BY i.relname`;
  return rows.map((row) => row.entry);
}
