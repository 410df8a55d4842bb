import type { Queryable } from '../core/db.js';
import { durationBucketThresholdsMs } from './refresh-duration-buckets.js';
import { quoteQualified, type EngineStore } from './engine-schema.js';

/**
 * Engine migration 4: running totals of the refresh log, so that `/metrics` reads a table of
 * a few rows per view instead of grouping every log row on each scrape (a scan that grew with
 * the log: the log keeps every attempt for its retention period).
 *
 * One row per (view, status, reason, mode, strategy, duration bucket) counts the attempts that
 * finished with those labels, their summed duration, keys and corrected rows, and the start of
 * the latest. Triggers on the log keep it: the statement that writes a finished row (an insert
 * of a skipped or failed attempt, the update closing a `running` row) also adds it to the
 * totals, in the same transaction, so a success and its count commit together. Every writer
 * of the log is covered, whichever code path or version wrote it.
 *
 * Totals are all-time: pruning the log deletes rows but not their counts, so counters keep
 * growing as Prometheus expects instead of dropping at each prune. An attempt is counted once,
 * under the labels it had when it finished: when a late `markFailed` rewrites a row another
 * worker had closed as "worker lost" (its mode and duration), the totals keep the first
 * closing, since moving it between series would make a counter decrease.
 */

/** Keys of a totals row that are not the log's own columns (`none` where the log has NULL). */
const GROUP = `view_name, status, reason, mode, strategy, bucket`;

/**
 * Adds the finished rows of `source` (a relation with the log's columns) to the totals.
 * Sorted, so that concurrent writers lock totals rows in the same order.
 */
function addFinishedRows(totals: string, source: string): string {
  const thresholds = `'{${durationBucketThresholdsMs().join(',')}}'::int[]`;
  return `
    INSERT INTO ${totals} AS t (${GROUP}, attempts, duration_ms, keys_refreshed, rows_corrected, last_started_at)
    SELECT r.view_name, r.status, r.reason, coalesce(r.mode, 'none'),
           -- Successes logged before the log recorded a strategy were all full rebuilds.
           CASE WHEN r.status = 'success' THEN coalesce(r.strategy, 'full') ELSE 'none' END,
           -- -1: no duration (a skipped request written without one).
           coalesce(width_bucket(r.duration_ms, ${thresholds}), -1)::smallint,
           count(*), coalesce(sum(r.duration_ms), 0), coalesce(sum(r.keys_refreshed), 0),
           coalesce(sum(r.rows_corrected) FILTER (WHERE r.strategy = 'full'), 0), max(r.started_at)
    FROM ${source} r
    WHERE r.status <> 'running'
    GROUP BY 1, 2, 3, 4, 5, 6
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (${GROUP}) DO UPDATE SET
      attempts = t.attempts + excluded.attempts,
      duration_ms = t.duration_ms + excluded.duration_ms,
      keys_refreshed = t.keys_refreshed + excluded.keys_refreshed,
      rows_corrected = t.rows_corrected + excluded.rows_corrected,
      last_started_at = greatest(t.last_started_at, excluded.last_started_at)`;
}

export async function createRefreshTotals(tx: Queryable, store: EngineStore): Promise<void> {
  const log = quoteQualified(store.refreshLog);
  const totals = quoteQualified(store.refreshTotals);
  const onInsert = quoteQualified(`${store.schema}.mv_refresh_totals_on_insert`);
  const onUpdate = quoteQualified(`${store.schema}.mv_refresh_totals_on_update`);
  await tx.unsafe(`
    CREATE TABLE ${totals} (
      view_name text NOT NULL,
      status text NOT NULL,
      reason text NOT NULL,
      mode text NOT NULL,
      strategy text NOT NULL,
      -- Index of the duration bucket (see refresh-duration-buckets.ts); -1 without a duration.
      bucket smallint NOT NULL,
      attempts bigint NOT NULL,
      duration_ms bigint NOT NULL,
      keys_refreshed bigint NOT NULL,
      rows_corrected bigint NOT NULL,
      last_started_at timestamptz NOT NULL,
      PRIMARY KEY (${GROUP})
    );

    -- Statement-level, over the statement's transition table: one upsert per statement
    -- however many rows it wrote (a backfill or a bulk import costs one grouped pass).
    CREATE FUNCTION ${onInsert}() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      ${addFinishedRows(totals, 'inserted_rows')};
      RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER mv_refresh_totals_on_insert AFTER INSERT ON ${log}
      REFERENCING NEW TABLE AS inserted_rows
      FOR EACH STATEMENT EXECUTE FUNCTION ${onInsert}();

    -- Only rows that leave 'running' count: a row rewritten after it finished was counted already.
    CREATE FUNCTION ${onUpdate}() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      ${addFinishedRows(totals, '(SELECT n.* FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE o.status = \'running\')')};
      RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER mv_refresh_totals_on_update AFTER UPDATE ON ${log}
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION ${onUpdate}();`);
  // The triggers exist before the backfill reads the log, and creating them locked out the
  // log's writers until this transaction commits: no row is missed or counted twice.
  await tx.unsafe(addFinishedRows(totals, log));
}
