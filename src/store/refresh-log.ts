import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

export const REFRESH_STATUSES = ['running', 'success', 'failed', 'skipped'] as const;
export const REFRESH_MODES = ['concurrent', 'plain'] as const;
export const REFRESH_REASONS = ['schedule', 'event', 'manual', 'api', 'cascade'] as const;
/** `targeted`: only the dirty keys' rows were recomputed; `full`: the whole view. */
export const REFRESH_STRATEGIES = ['targeted', 'full'] as const;

export type RefreshStatus = (typeof REFRESH_STATUSES)[number];
export type RefreshMode = (typeof REFRESH_MODES)[number];
export type RefreshReason = (typeof REFRESH_REASONS)[number];
export type RefreshStrategy = (typeof REFRESH_STRATEGIES)[number];

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

/**
 * One row per refresh attempt (its column names are relied on by dashboards and queries
 * outside mvfleet). A row is inserted as `running` before the refresh and closed as
 * success/failed/skipped after. Created by mvfleet's own migrations in `schema`.
 */
export const refreshLogTable = (schema: string) =>
  pgSchema(schema).table(
    'mv_refresh_log',
    {
      id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
      viewName: text('view_name').notNull(),
      status: text('status', { enum: REFRESH_STATUSES }).notNull(),
      /**
       * Null while the mode is not decided yet, or for a skipped attempt. For a table-stored view
       * `concurrent` means readers were not blocked (targeted or diff-apply), `plain` that every
       * row was replaced.
       */
      mode: text('mode', { enum: REFRESH_MODES }),
      reason: text('reason', { enum: REFRESH_REASONS }).notNull(),
      /** What asked for it: the event name, the scheduler id, the upstream view of a cascade. */
      triggerDetail: text('trigger_detail'),
      jobId: text('job_id'),
      attempt: integer('attempt').notNull().default(1),
      workerId: text('worker_id'),
      requestedAt: timestamp('requested_at', { withTimezone: true }),
      /** Start of the refresh transaction: the snapshot the view's data reflects (its `as_of`). */
      startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
      finishedAt: timestamp('finished_at', { withTimezone: true }),
      durationMs: integer('duration_ms'),
      /** Time spent waiting on locks, sampled for MVs; null for table-stored views. */
      lockWaitMs: integer('lock_wait_ms'),
      rowsAfter: bigint('rows_after', { mode: 'number' }),
      errorMessage: text('error_message'),
      /** SQLSTATE of the failure, when PostgreSQL reported one. */
      errorCode: text('error_code'),
      /** PostgreSQL backend running the refresh; lets a sweeper close rows of dead workers. */
      backendPid: integer('backend_pid'),
      /** Null until decided, and for a skipped attempt. */
      strategy: text('strategy', { enum: REFRESH_STRATEGIES }),
      /** Keyed views: the dirty keys this refresh drained (recomputed, or covered by a full rebuild). */
      keysRefreshed: integer('keys_refreshed'),
      /**
       * Full rebuild of a table-stored view: rows it added, removed or changed outside the keys
       * events announced. Non-zero means some change reached the sources without its event.
       */
      rowsCorrected: bigint('rows_corrected', { mode: 'number' }),
    },
    (t) => [
      index('mv_refresh_log_view_started_idx').on(t.viewName, t.startedAt.desc()),
      index('mv_refresh_log_last_success_idx')
        .on(t.viewName, t.startedAt.desc())
        .where(sql`${t.status} = 'success'`),
      index('mv_refresh_log_running_idx').on(t.viewName).where(sql`${t.status} = 'running'`),
      index('mv_refresh_log_started_idx').on(t.startedAt),
      check('mv_refresh_log_status_check', sql`${t.status} in (${inList(REFRESH_STATUSES)})`),
      check('mv_refresh_log_mode_check', sql`${t.mode} in (${inList(REFRESH_MODES)})`),
      check('mv_refresh_log_reason_check', sql`${t.reason} in (${inList(REFRESH_REASONS)})`),
      check('mv_refresh_log_strategy_check', sql`${t.strategy} in (${inList(REFRESH_STRATEGIES)})`),
    ],
  );
