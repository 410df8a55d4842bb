import { sql } from 'drizzle-orm';
import { boolean, check, date, index, integer, numeric, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, id } from './columns.js';

/** Professional-services finance (source document 002): firms, projects, invoices, time, expenses. */
export const firms = pgTable('firms', {
  id: id(),
  name: text('name').notNull(),
  timeZone: text('time_zone').notNull().default('UTC'),
  createdAt: createdAt(),
});

export const clients = pgTable(
  'clients',
  {
    id: id(),
    firmId: integer('firm_id')
      .notNull()
      .references(() => firms.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
  },
  (t) => [index('clients_firm_idx').on(t.firmId)],
);

export const users = pgTable(
  'users',
  {
    id: id(),
    firmId: integer('firm_id')
      .notNull()
      .references(() => firms.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
  },
  (t) => [index('users_firm_idx').on(t.firmId)],
);

export const projects = pgTable(
  'projects',
  {
    id: id(),
    firmId: integer('firm_id')
      .notNull()
      .references(() => firms.id, { onDelete: 'cascade' }),
    clientId: integer('client_id').references(() => clients.id, { onDelete: 'set null' }),
    name: text('name').notNull(),
    projectCode: text('project_code').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('projects_firm_idx').on(t.firmId),
    index('projects_client_idx').on(t.clientId),
    uniqueIndex('projects_firm_code_key').on(t.firmId, t.projectCode),
  ],
);

export const invoices = pgTable(
  'invoices',
  {
    id: id(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    invoiceNumber: text('invoice_number').notNull(),
    status: text('status', { enum: ['draft', 'sent', 'paid', 'void'] }).notNull(),
    issuedOn: date('issued_on').notNull(),
    totalAmount: numeric('total_amount', { precision: 12, scale: 2 }).notNull(),
    paidAmount: numeric('paid_amount', { precision: 12, scale: 2 }).notNull().default('0'),
    /** Booking date of the payment: revenue is recognised in this date's month. */
    paidOn: date('paid_on'),
    paidAt: timestamp('paid_at', { withTimezone: true }),
  },
  (t) => [
    index('invoices_project_paid_on_idx').on(t.projectId, t.paidOn),
    check('invoices_status_check', sql`${t.status} in ('draft', 'sent', 'paid', 'void')`),
  ],
);

export const timeEntries = pgTable(
  'time_entries',
  {
    id: id(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Task within the project (tasks live in the app's project module; not modelled here). */
    taskId: integer('task_id'),
    entryDate: date('entry_date').notNull(),
    hours: numeric('hours', { precision: 5, scale: 2 }).notNull(),
    hourlyRate: numeric('hourly_rate', { precision: 10, scale: 2 }).notNull(),
    isBillable: boolean('is_billable').notNull().default(true),
    status: text('status', { enum: ['draft', 'submitted', 'approved', 'rejected'] }).notNull(),
    approvedAt: timestamp('approved_at', { withTimezone: true }),
  },
  (t) => [
    index('time_entries_project_date_idx').on(t.projectId, t.entryDate),
    index('time_entries_user_date_idx').on(t.userId, t.entryDate),
    check('time_entries_status_check', sql`${t.status} in ('draft', 'submitted', 'approved', 'rejected')`),
  ],
);

export const expenses = pgTable(
  'expenses',
  {
    id: id(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    incurredOn: date('incurred_on').notNull(),
    category: text('category').notNull(),
    amount: numeric('amount', { precision: 12, scale: 2 }).notNull(),
    status: text('status', { enum: ['pending', 'approved', 'rejected'] }).notNull(),
  },
  (t) => [
    index('expenses_project_date_idx').on(t.projectId, t.incurredOn),
    check('expenses_status_check', sql`${t.status} in ('pending', 'approved', 'rejected')`),
  ],
);
