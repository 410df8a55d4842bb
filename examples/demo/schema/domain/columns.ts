import { integer, timestamp } from 'drizzle-orm/pg-core';

/** An identity primary key that still accepts explicit ids (the seeder writes deterministic ids). */
export const id = () => integer('id').primaryKey().generatedByDefaultAsIdentity();

/** `timestamptz` with a `now()` default. */
export const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
export const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();
/** Soft delete marker: rows with a value are excluded from every view. */
export const deletedAt = () => timestamp('deleted_at', { withTimezone: true });
