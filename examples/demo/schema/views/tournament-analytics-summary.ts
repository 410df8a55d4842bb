import { sql } from 'drizzle-orm';
import { integer, numeric, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { KeyScope } from 'mvfleet';

/**
 * Per-tournament analytics (source document 000). Each child table is aggregated per
 * tournament first and then joined: joining registrations × matches × prizes in one
 * GROUP BY would multiply rows (100 × 50 × 10 per tournament) and the sums with them.
 *
 * There is no `last_refresh_at = now()` column: the refresh log holds `as_of`, and a
 * column that changes on every row would make each CONCURRENTLY refresh rewrite the
 * whole view instead of only the rows that changed.
 *
 * A keyed view, stored as a table that targeted refreshes maintain per tournament. To store
 * it as a PostgreSQL MV instead, declare
 * `pgMaterializedView('tournament_analytics_summary', tournamentAnalyticsColumns()).withNoData().as(tournamentAnalyticsQuery(wholeView))`
 * and generate a migration.
 */
export const tournamentAnalyticsColumns = () => ({
  tournamentId: integer('tournament_id').notNull(),
  tournamentStatus: text('tournament_status').notNull(),
  totalParticipants: integer('total_participants').notNull(),
  checkedInCount: integer('checked_in_count').notNull(),
  checkInRate: numeric('check_in_rate', { precision: 7, scale: 4 }).notNull(),
  totalMatches: integer('total_matches').notNull(),
  completedMatches: integer('completed_matches').notNull(),
  disputedMatches: integer('disputed_matches').notNull(),
  disputeRate: numeric('dispute_rate', { precision: 7, scale: 4 }).notNull(),
  avgMatchDurationMinutes: numeric('avg_match_duration_minutes', { precision: 12, scale: 4 }),
  prizePoolTotal: numeric('prize_pool_total', { precision: 14, scale: 2 }).notNull(),
  prizesDistributed: numeric('prizes_distributed', { precision: 14, scale: 2 }).notNull(),
  payoutCount: integer('payout_count').notNull(),
  startedAt: timestamp('started_at', { withTimezone: true }),
  concludedAt: timestamp('concluded_at', { withTimezone: true }),
});

/**
 * The one definition: whole (full rebuilds, live lists) or restricted to a set of tournaments
 * (targeted refreshes, live key reads), where each child aggregate reads only those
 * tournaments' rows through its `(tournament_id, …)` index.
 */
export const tournamentAnalyticsQuery = (keys: KeyScope) => sql`
SELECT
  t.id AS tournament_id,
  t.status AS tournament_status,
  COALESCE(r.total_participants, 0)::integer AS total_participants,
  COALESCE(r.checked_in_count, 0)::integer AS checked_in_count,
  COALESCE(round(r.checked_in_count::numeric / NULLIF(r.total_participants, 0), 4), 0)::numeric(7, 4) AS check_in_rate,
  COALESCE(m.total_matches, 0)::integer AS total_matches,
  COALESCE(m.completed_matches, 0)::integer AS completed_matches,
  COALESCE(m.disputed_matches, 0)::integer AS disputed_matches,
  COALESCE(round(m.disputed_matches::numeric / NULLIF(m.total_matches, 0), 4), 0)::numeric(7, 4) AS dispute_rate,
  m.avg_match_duration_minutes::numeric(12, 4) AS avg_match_duration_minutes,
  t.prize_pool::numeric(14, 2) AS prize_pool_total,
  COALESCE(p.prizes_distributed, 0)::numeric(14, 2) AS prizes_distributed,
  COALESCE(p.payout_count, 0)::integer AS payout_count,
  t.tournament_start AS started_at,
  CASE WHEN t.status = 'completed' THEN t.updated_at END AS concluded_at
FROM tournaments t
LEFT JOIN (
  SELECT
    tournament_id,
    count(*) FILTER (WHERE status = 'confirmed') AS total_participants,
    count(*) FILTER (WHERE status = 'confirmed' AND checked_in) AS checked_in_count
  FROM registrations
  WHERE ${keys.match('tournament_id', sql`tournament_id`)}
  GROUP BY tournament_id
) r ON r.tournament_id = t.id
LEFT JOIN (
  SELECT
    tournament_id,
    count(*) AS total_matches,
    count(*) FILTER (WHERE state = 'completed') AS completed_matches,
    count(*) FILTER (WHERE state = 'disputed') AS disputed_matches,
    round(
      (extract(epoch FROM avg(completed_at - started_at) FILTER (WHERE state = 'completed')) / 60)::numeric,
      4
    ) AS avg_match_duration_minutes
  FROM matches
  WHERE ${keys.match('tournament_id', sql`tournament_id`)}
  GROUP BY tournament_id
) m ON m.tournament_id = t.id
LEFT JOIN (
  SELECT
    tournament_id,
    sum(amount) FILTER (WHERE status = 'completed') AS prizes_distributed,
    count(*) FILTER (WHERE status = 'completed') AS payout_count
  FROM prize_transactions
  WHERE ${keys.match('tournament_id', sql`tournament_id`)}
  GROUP BY tournament_id
) p ON p.tournament_id = t.id
WHERE ${keys.match('tournament_id', sql`t.id`)}
`;

export const tournamentAnalyticsSummary = pgTable('tournament_analytics_summary', tournamentAnalyticsColumns());
