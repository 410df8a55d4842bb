import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, numeric, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, id, updatedAt } from './columns.js';

/** Tournament platform (source document 000): tournaments, registrations, matches, prize payouts. */
export const tournaments = pgTable(
  'tournaments',
  {
    id: id(),
    name: text('name').notNull(),
    game: text('game').notNull(),
    status: text('status', { enum: ['draft', 'registration', 'live', 'completed', 'cancelled'] }).notNull(),
    prizePool: numeric('prize_pool', { precision: 12, scale: 2 }).notNull().default('0'),
    tournamentStart: timestamp('tournament_start', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('tournaments_status_idx').on(t.status),
    check('tournaments_status_check', sql`${t.status} in ('draft', 'registration', 'live', 'completed', 'cancelled')`),
  ],
);

export const registrations = pgTable(
  'registrations',
  {
    id: id(),
    tournamentId: integer('tournament_id')
      .notNull()
      .references(() => tournaments.id, { onDelete: 'cascade' }),
    userId: integer('user_id').notNull(),
    status: text('status', { enum: ['pending', 'confirmed', 'cancelled'] }).notNull(),
    checkedIn: boolean('checked_in').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [
    index('registrations_tournament_status_idx').on(t.tournamentId, t.status),
    uniqueIndex('registrations_tournament_user_key').on(t.tournamentId, t.userId),
    check('registrations_status_check', sql`${t.status} in ('pending', 'confirmed', 'cancelled')`),
  ],
);

export const matches = pgTable(
  'matches',
  {
    id: id(),
    tournamentId: integer('tournament_id')
      .notNull()
      .references(() => tournaments.id, { onDelete: 'cascade' }),
    round: integer('round').notNull(),
    state: text('state', { enum: ['scheduled', 'live', 'completed', 'disputed'] }).notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('matches_tournament_state_idx').on(t.tournamentId, t.state),
    check('matches_state_check', sql`${t.state} in ('scheduled', 'live', 'completed', 'disputed')`),
  ],
);

export const prizeTransactions = pgTable(
  'prize_transactions',
  {
    id: id(),
    tournamentId: integer('tournament_id')
      .notNull()
      .references(() => tournaments.id, { onDelete: 'cascade' }),
    amount: numeric('amount', { precision: 12, scale: 2 }).notNull(),
    status: text('status', { enum: ['pending', 'completed', 'failed'] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('prize_transactions_tournament_status_idx').on(t.tournamentId, t.status),
    check('prize_transactions_status_check', sql`${t.status} in ('pending', 'completed', 'failed')`),
  ],
);
