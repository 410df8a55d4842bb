CREATE TABLE "mv_revenue_by_project_month" (
	"firm_id" integer NOT NULL,
	"project_id" integer NOT NULL,
	"project_name" text NOT NULL,
	"project_code" text NOT NULL,
	"client_id" integer,
	"month" date NOT NULL,
	"total_revenue" numeric(14, 2) NOT NULL,
	"invoices_paid" integer NOT NULL,
	"labor_cost" numeric(14, 2) NOT NULL,
	"expense_cost" numeric(14, 2) NOT NULL,
	"gross_margin" numeric(14, 2) NOT NULL,
	"team_members" integer NOT NULL,
	"total_hours" numeric(12, 2) NOT NULL,
	"billable_hours" numeric(12, 2) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tournament_analytics_summary" (
	"tournament_id" integer NOT NULL,
	"tournament_status" text NOT NULL,
	"total_participants" integer NOT NULL,
	"checked_in_count" integer NOT NULL,
	"check_in_rate" numeric(7, 4) NOT NULL,
	"total_matches" integer NOT NULL,
	"completed_matches" integer NOT NULL,
	"disputed_matches" integer NOT NULL,
	"dispute_rate" numeric(7, 4) NOT NULL,
	"avg_match_duration_minutes" numeric(12, 4),
	"prize_pool_total" numeric(14, 2) NOT NULL,
	"prizes_distributed" numeric(14, 2) NOT NULL,
	"payout_count" integer NOT NULL,
	"started_at" timestamp with time zone,
	"concluded_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "mv_dirty_keys" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "mv_dirty_keys_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"view_name" text NOT NULL,
	"key" jsonb NOT NULL,
	"event" text,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mv_table_state" (
	"view_name" text PRIMARY KEY NOT NULL,
	"relid" bigint NOT NULL,
	"definition_md5" text NOT NULL,
	"populated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
DROP MATERIALIZED VIEW "public"."mv_revenue_by_project_month";--> statement-breakpoint
DROP MATERIALIZED VIEW "public"."tournament_analytics_summary";--> statement-breakpoint
ALTER TABLE "mv_refresh_log" ADD COLUMN "strategy" text;--> statement-breakpoint
ALTER TABLE "mv_refresh_log" ADD COLUMN "keys_refreshed" integer;--> statement-breakpoint
ALTER TABLE "mv_refresh_log" ADD COLUMN "rows_corrected" bigint;--> statement-breakpoint
CREATE INDEX "mv_dirty_keys_view_key_idx" ON "mv_dirty_keys" USING btree ("view_name","key");--> statement-breakpoint
ALTER TABLE "mv_refresh_log" ADD CONSTRAINT "mv_refresh_log_strategy_check" CHECK ("mv_refresh_log"."strategy" in ('targeted', 'full'));