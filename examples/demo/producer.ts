import type { z } from 'zod';
import { demoCatalog } from './schema/catalog.js';
import type { demoEvents } from './schema/events.js';
import { createProducer, type Producer, type ProducerOptions, type RefreshHandle } from 'mvfleet';

type Payload<E extends keyof typeof demoEvents> = z.input<(typeof demoEvents)[E]['payload']>;

/** The producer SDK for the demo domain, with one typed helper per source-application flow. */
export interface DemoProducer extends Producer {
  /** An AHSP bulk import committed (refreshes `referensi_ahsp_stats`). */
  importFinished(payload?: Payload<'import.finished'>): Promise<RefreshHandle>;
  invoicePaid(payload: Payload<'invoice.paid'>): Promise<RefreshHandle>;
  timeEntryApproved(payload: Payload<'time_entry.approved'>): Promise<RefreshHandle>;
  expenseApproved(payload: Payload<'expense.approved'>): Promise<RefreshHandle>;
  matchCompleted(payload: Payload<'match.completed'>): Promise<RefreshHandle>;
  registrationConfirmed(payload: Payload<'registration.confirmed'>): Promise<RefreshHandle>;
  prizePaid(payload: Payload<'prize.paid'>): Promise<RefreshHandle>;
  tournamentFinalized(payload: Payload<'tournament.finalized'>): Promise<RefreshHandle>;
  budgetVersionStatusChanged(payload: Payload<'budget_version.status_changed'>): Promise<RefreshHandle>;
}

/** `createProducer` over the demo catalog (or the loaded config's, which is the same). */
export function createDemoProducer(options: Omit<ProducerOptions, 'catalog'> & Partial<Pick<ProducerOptions, 'catalog'>>): DemoProducer {
  const fleet = createProducer({ catalog: demoCatalog, ...options });
  return Object.assign(fleet, {
    importFinished: (payload: Payload<'import.finished'> = {}) => fleet.emit('import.finished', payload),
    invoicePaid: (payload: Payload<'invoice.paid'>) => fleet.emit('invoice.paid', payload),
    timeEntryApproved: (payload: Payload<'time_entry.approved'>) => fleet.emit('time_entry.approved', payload),
    expenseApproved: (payload: Payload<'expense.approved'>) => fleet.emit('expense.approved', payload),
    matchCompleted: (payload: Payload<'match.completed'>) => fleet.emit('match.completed', payload),
    registrationConfirmed: (payload: Payload<'registration.confirmed'>) => fleet.emit('registration.confirmed', payload),
    prizePaid: (payload: Payload<'prize.paid'>) => fleet.emit('prize.paid', payload),
    tournamentFinalized: (payload: Payload<'tournament.finalized'>) => fleet.emit('tournament.finalized', payload),
    budgetVersionStatusChanged: (payload: Payload<'budget_version.status_changed'>) =>
      fleet.emit('budget_version.status_changed', payload),
  });
}
