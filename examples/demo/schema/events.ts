import { z } from 'zod';
import type { EventDefinition } from 'mvfleet';

/**
 * Application events of the demo domain. Which views each one refreshes is declared on
 * the views (schema/catalog.ts); here is only what an event must carry. The fields keyed
 * views take their keys from (tournament, project and date) are required.
 */
const id = z.number().int().positive();
const isoDate = z.iso.date('must be a date YYYY-MM-DD');

export const demoEvents = {
  'registration.confirmed': {
    description: 'A player registration was confirmed.',
    payload: z.object({ tournamentId: id, registrationId: id.optional() }),
  },
  'match.completed': {
    description: 'A match finished (or its result was corrected).',
    payload: z.object({ tournamentId: id, matchId: id.optional() }),
  },
  'prize.paid': {
    description: 'A prize payout completed.',
    payload: z.object({ tournamentId: id, prizeTransactionId: id.optional() }),
  },
  'tournament.finalized': {
    description: 'A tournament was closed and its results are final.',
    payload: z.object({ tournamentId: id }),
  },
  'import.finished': {
    description: 'A bulk import of AHSP reference data committed.',
    payload: z.object({ sumber: z.string().min(1).optional(), rows: z.number().int().nonnegative().optional() }),
  },
  'invoice.paid': {
    description: 'An invoice was paid.',
    payload: z.object({ firmId: id, projectId: id, paidOn: isoDate, invoiceId: id.optional() }),
  },
  'time_entry.approved': {
    description: 'A time entry was approved.',
    payload: z.object({ firmId: id, projectId: id, entryDate: isoDate, userId: id.optional() }),
  },
  'expense.approved': {
    description: 'An expense was approved.',
    payload: z.object({ firmId: id, projectId: id, incurredOn: isoDate, expenseId: id.optional() }),
  },
  'budget_version.status_changed': {
    description: 'A budget version moved between working, submitted, approved and superseded.',
    payload: z.object({
      budgetVersionId: id,
      status: z.enum(['working', 'submitted', 'approved', 'superseded']).optional(),
    }),
  },
} satisfies Record<string, EventDefinition>;

export type DemoEventName = keyof typeof demoEvents;
