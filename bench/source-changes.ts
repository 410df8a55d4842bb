import type { Queryable } from '../src/core/db.js';
import type { KeyTuple } from '../src/catalog/event-keys.js';

/**
 * Real changes to the sources of the keyed demo views, one small write per key, that flip
 * between two states: every change alters what the view shows for the key, yet the data keep
 * their shape across runs (the bench database is reused).
 */
export interface KeyedSource {
  /** The event that announces such a change (recorded with its keys in `mvfleet.mv_dirty_keys`). */
  event: string;
  /** Keys (scope-key tuples) whose sources a change can alter, in key order. */
  keys(sql: Queryable): Promise<KeyTuple[]>;
  /** Changes the sources of each key. */
  change(sql: Queryable, keys: readonly KeyTuple[]): Promise<void>;
}

/** Flips one match per tournament between completed and disputed. */
export async function flipMatches(sql: Queryable, tournamentIds: readonly number[]): Promise<void> {
  await sql`
    UPDATE matches m
    SET state = CASE WHEN m.state = 'completed' THEN 'disputed' ELSE 'completed' END, updated_at = now()
    FROM (SELECT min(id) AS id FROM matches WHERE tournament_id = ANY(${tournamentIds as number[]}) GROUP BY tournament_id) AS pick
    WHERE m.id = pick.id`;
}

/** Moves one paid invoice per (project, month) by a cent, up from an even cent and down from an odd one. */
export async function nudgeInvoices(sql: Queryable, keys: readonly KeyTuple[]): Promise<void> {
  await sql`
    UPDATE invoices i
    SET paid_amount = CASE WHEN (i.paid_amount * 100)::bigint % 2 = 0 THEN i.paid_amount + 0.01 ELSE i.paid_amount - 0.01 END
    FROM (
      SELECT min(inv.id) AS id
      FROM invoices inv
      JOIN unnest(${keys.map((key) => Number(key[0]))}::integer[], ${keys.map((key) => String(key[1]))}::date[]) AS k(project_id, month)
        ON inv.project_id = k.project_id AND date_trunc('month', inv.paid_on::timestamp)::date = k.month
      WHERE inv.status = 'paid' AND inv.paid_on IS NOT NULL
      GROUP BY k.project_id, k.month
    ) AS pick
    WHERE i.id = pick.id`;
}

/** The keyed demo views' sources, by view. */
export const keyedSources: Readonly<Record<string, KeyedSource>> = {
  tournament_analytics_summary: {
    event: 'match.completed',
    async keys(sql) {
      const rows = await sql<{ id: number }[]>`SELECT DISTINCT tournament_id AS id FROM matches ORDER BY 1`;
      return rows.map((row) => [row.id]);
    },
    change: (sql, keys) => flipMatches(sql, keys.map((key) => Number(key[0]))),
  },
  mv_revenue_by_project_month: {
    event: 'invoice.paid',
    async keys(sql) {
      const rows = await sql<{ project_id: number; month: string }[]>`
        SELECT DISTINCT project_id, to_char(date_trunc('month', paid_on::timestamp), 'YYYY-MM-DD') AS month
        FROM invoices WHERE status = 'paid' AND paid_on IS NOT NULL ORDER BY 1, 2`;
      return rows.map((row) => [row.project_id, row.month]);
    },
    change: nudgeInvoices,
  },
};
