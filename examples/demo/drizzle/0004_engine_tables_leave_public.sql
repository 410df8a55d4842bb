-- mvfleet keeps its tables in a schema of its own ("mvfleet"), created by its own migrations.
-- On a database that an earlier mvfleet migrated, `mvfleet migrate` has already moved them
-- there (with their rows) before this runs; on a new one, 0000 and 0002 created them here.
DROP TABLE IF EXISTS "public"."mv_refresh_log";--> statement-breakpoint
DROP TABLE IF EXISTS "public"."mv_dirty_keys";--> statement-breakpoint
DROP TABLE IF EXISTS "public"."mv_table_state";
