import { insertInChunks } from './chunks.js';
import { ANCHOR_TIMESTAMP, type RowCounts, type SeedContext } from './context.js';
import type { TournamentVolumes } from './scales.js';

/** Every 25th tournament is a draft without registrations, matches or prizes (zero rows in the view). */
const DRAFT_EVERY = 25;
/** Matches are spread over this many rounds, three hours apart. */
const ROUNDS = 6;

/**
 * Tournaments with their registrations, matches and prize payouts. Statuses shape the
 * children: registration-phase tournaments have only scheduled matches (no duration),
 * completed ones mostly completed matches with some disputes and failed payouts.
 */
export async function seedTournaments(ctx: SeedContext, volumes: TournamentVolumes): Promise<RowCounts> {
  const { sql, seed } = ctx;
  const count = volumes.tournaments;

  const tournaments = await insertInChunks(ctx, 'tournaments', { parents: count, rowsPerParent: 1 }, ({ first, last }) => sql`
    INSERT INTO tournaments (id, name, game, status, prize_pool, tournament_start, created_at, updated_at)
    SELECT
      i,
      format('%s %s #%s', s.game, pg_temp.pick(ARRAY['Open', 'Cup', 'Masters', 'Invitational', 'League', 'Showdown'], pg_temp.rnd(${seed}, 2, i)), i),
      s.game,
      s.status,
      CASE WHEN s.status = 'draft' THEN 0 ELSE round((500 + pg_temp.rnd(${seed}, 4, i) * 99500)::numeric, -1) END,
      w.start,
      w.created_at,
      CASE
        WHEN s.status = 'completed' THEN w.start + interval '1 second' * floor(86400 * (1 + 4 * pg_temp.rnd(${seed}, 7, i)))
        ELSE w.created_at + interval '1 second' * floor(86400 * 14 * pg_temp.rnd(${seed}, 7, i))
      END
    FROM generate_series(${first}::int, ${last}::int) AS i
    CROSS JOIN LATERAL (
      SELECT
        pg_temp.pick(ARRAY['Valorant', 'Dota 2', 'Counter-Strike 2', 'League of Legends', 'Rocket League', 'Street Fighter 6'], pg_temp.rnd(${seed}, 1, i)) AS game,
        CASE
          WHEN i % ${DRAFT_EVERY}::int = 0 THEN 'draft'
          WHEN pg_temp.rnd(${seed}, 3, i) < 0.15 THEN 'registration'
          WHEN pg_temp.rnd(${seed}, 3, i) < 0.30 THEN 'live'
          WHEN pg_temp.rnd(${seed}, 3, i) < 0.90 THEN 'completed'
          ELSE 'cancelled'
        END AS status
    ) s
    CROSS JOIN LATERAL (
      SELECT ${ANCHOR_TIMESTAMP}::timestamptz + interval '1 second' * floor(86400 * CASE s.status
          WHEN 'registration' THEN 1 + 60 * pg_temp.rnd(${seed}, 5, i)
          WHEN 'live' THEN -1 - 2 * pg_temp.rnd(${seed}, 5, i)
          WHEN 'completed' THEN -7 - 540 * pg_temp.rnd(${seed}, 5, i)
          WHEN 'cancelled' THEN -1 - 300 * pg_temp.rnd(${seed}, 5, i)
        END) AS start
    ) d
    CROSS JOIN LATERAL (
      SELECT
        d.start,
        COALESCE(d.start, ${ANCHOR_TIMESTAMP}::timestamptz) - interval '1 second' * floor(86400 * (14 + 90 * pg_temp.rnd(${seed}, 6, i))) AS created_at
    ) w
  `);

  const registrations = await insertInChunks(
    ctx,
    'registrations',
    { parents: count, rowsPerParent: volumes.registrationsPerTournament },
    ({ first, last }) => sql`
      INSERT INTO registrations (id, tournament_id, user_id, status, checked_in, created_at)
      SELECT
        r.id,
        t.id,
        -- distinct per tournament (k differs), spread over a pool of 500,000 players
        1 + ((t.id - 1) * 7919 + k) % 500000,
        s.status,
        CASE s.status
          WHEN 'confirmed' THEN t.status IN ('live', 'completed') AND pg_temp.rnd(${seed}, 12, r.id) < 0.85
          -- a few pending players checked in anyway: the view must count confirmed ones only
          WHEN 'pending' THEN pg_temp.rnd(${seed}, 12, r.id) < 0.05
          ELSE false
        END,
        t.created_at + interval '1 second' * floor(
          extract(epoch FROM least(t.tournament_start, ${ANCHOR_TIMESTAMP}::timestamptz) - t.created_at)::float8 * pg_temp.rnd(${seed}, 13, r.id)
        )
      FROM tournaments t
      CROSS JOIN generate_series(1, ${volumes.registrationsPerTournament}::int) AS k
      CROSS JOIN LATERAL (SELECT (t.id - 1) * ${volumes.registrationsPerTournament}::int + k AS id) r
      CROSS JOIN LATERAL (
        SELECT CASE
          WHEN pg_temp.rnd(${seed}, 11, r.id) < CASE WHEN t.status = 'registration' THEN 0.55 ELSE 0.80 END THEN 'confirmed'
          WHEN pg_temp.rnd(${seed}, 11, r.id) < CASE WHEN t.status = 'registration' THEN 0.90 ELSE 0.88 END THEN 'pending'
          ELSE 'cancelled'
        END AS status
      ) s
      WHERE t.id BETWEEN ${first}::int AND ${last}::int AND t.status <> 'draft'
    `,
  );

  const perTournament = volumes.matchesPerTournament;
  const matches = await insertInChunks(ctx, 'matches', { parents: count, rowsPerParent: perTournament }, ({ first, last }) => sql`
    INSERT INTO matches (id, tournament_id, round, state, started_at, completed_at, created_at, updated_at)
    SELECT m.id, t.id, m.round, s.state, w.started_at, w.completed_at, t.created_at, COALESCE(w.completed_at, w.started_at, t.created_at)
    FROM tournaments t
    CROSS JOIN generate_series(1, ${perTournament}::int) AS k
    CROSS JOIN LATERAL (
      SELECT (t.id - 1) * ${perTournament}::int + k AS id, 1 + (k - 1) * ${ROUNDS}::int / ${perTournament}::int AS round
    ) m
    CROSS JOIN LATERAL (SELECT pg_temp.rnd(${seed}, 21, m.id) AS r) x
    CROSS JOIN LATERAL (
      SELECT CASE t.status
        WHEN 'registration' THEN 'scheduled'
        WHEN 'live' THEN CASE WHEN x.r < 0.50 THEN 'completed' WHEN x.r < 0.58 THEN 'disputed' WHEN x.r < 0.73 THEN 'live' ELSE 'scheduled' END
        WHEN 'completed' THEN CASE WHEN x.r < 0.90 THEN 'completed' ELSE 'disputed' END
        ELSE CASE WHEN x.r < 0.40 THEN 'completed' WHEN x.r < 0.50 THEN 'disputed' ELSE 'scheduled' END
      END AS state
    ) s
    CROSS JOIN LATERAL (
      SELECT
        t.tournament_start + interval '1 second' * ((m.round - 1) * 10800 + floor(3600 * pg_temp.rnd(${seed}, 22, m.id))) AS start,
        interval '1 second' * floor(900 + 4500 * pg_temp.rnd(${seed}, 23, m.id)) AS duration
    ) d
    CROSS JOIN LATERAL (
      SELECT
        -- 1% of completed matches were reported without a start time: no duration for them
        CASE WHEN s.state = 'scheduled' OR (s.state = 'completed' AND pg_temp.rnd(${seed}, 24, m.id) < 0.01) THEN NULL ELSE d.start END AS started_at,
        CASE
          WHEN s.state = 'completed' THEN d.start + d.duration
          WHEN s.state = 'disputed' AND pg_temp.rnd(${seed}, 25, m.id) < 0.5 THEN d.start + d.duration
        END AS completed_at
    ) w
    WHERE t.id BETWEEN ${first}::int AND ${last}::int AND t.status <> 'draft'
  `);

  const prizesPer = volumes.prizesPerTournament;
  const prizes = await insertInChunks(ctx, 'prize_transactions', { parents: count, rowsPerParent: prizesPer }, ({ first, last }) => sql`
    INSERT INTO prize_transactions (id, tournament_id, amount, status, created_at)
    SELECT
      p.id,
      t.id,
      round(t.prize_pool * (0.02 + 0.3 * pg_temp.rnd(${seed}, 31, p.id))::numeric, 2),
      CASE
        WHEN t.status = 'completed' THEN CASE WHEN x.r < 0.80 THEN 'completed' WHEN x.r < 0.92 THEN 'pending' ELSE 'failed' END
        WHEN t.status = 'registration' THEN 'pending'
        ELSE CASE WHEN x.r < 0.70 THEN 'pending' WHEN x.r < 0.85 THEN 'failed' ELSE 'completed' END
      END,
      t.updated_at + interval '1 minute' * k
    FROM tournaments t
    CROSS JOIN generate_series(1, ${prizesPer}::int) AS k
    CROSS JOIN LATERAL (SELECT (t.id - 1) * ${prizesPer}::int + k AS id) p
    CROSS JOIN LATERAL (SELECT pg_temp.rnd(${seed}, 32, p.id) AS r) x
    WHERE t.id BETWEEN ${first}::int AND ${last}::int AND t.status <> 'draft'
  `);

  return { tournaments, registrations, matches, prize_transactions: prizes };
}
