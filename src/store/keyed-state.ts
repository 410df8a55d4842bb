import { bigint, index, jsonb, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Keys of keyed views that events touched and no refresh has recomputed yet. A producer
 * appends one row per event and view (appends never wait on a refresh in flight); the next
 * refresh of the view deletes the rows it can see inside its own transaction, so a failed
 * refresh keeps them and keys recorded meanwhile belong to the next refresh.
 */
export const dirtyKeysTable = (schema: string) =>
  pgSchema(schema).table(
  'mv_dirty_keys',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    viewName: text('view_name').notNull(),
    /** The scope key's values in scope-key order, canonical (core/event-keys.ts). */
    key: jsonb('key').notNull(),
    /** The event that touched the key. */
    event: text('event'),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('mv_dirty_keys_view_key_idx').on(t.viewName, t.key)],
);

/**
 * Table-stored views that hold a complete build: a table is created empty, so unlike an MV
 * it cannot say by itself whether it was ever populated. `relid` ties the row to one
 * incarnation of the table (dropped and recreated by a migration: unpopulated again), and
 * `definition_md5` to one definition: a table whose query or columns changed in the catalog
 * (no migration needed for a query) holds rows of the old definition and counts as
 * unpopulated until its next full build.
 */
export const tableStateTable = (schema: string) =>
  pgSchema(schema).table('mv_table_state', {
    viewName: text('view_name').primaryKey(),
    relid: bigint('relid', { mode: 'number' }).notNull(),
    definitionMd5: text('definition_md5').notNull(),
    populatedAt: timestamp('populated_at', { withTimezone: true }).notNull(),
  });
