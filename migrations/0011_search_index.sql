-- The staff search's filters in one GIN index: status and source through btree_gin (a trusted extension, shipped
-- with PostgreSQL's contrib like pg_trgm) beside the address and name trigrams, so filters that are common each but
-- rare together are intersected inside the index. It replaces the two trigram indexes.
CREATE EXTENSION IF NOT EXISTS btree_gin;--> statement-breakpoint
CREATE INDEX "subscribers_search_idx" ON "subscribers" USING gin ("status","source","email_normalized" gin_trgm_ops,lower("name") gin_trgm_ops);--> statement-breakpoint
DROP INDEX "subscribers_email_trgm_idx";--> statement-breakpoint
DROP INDEX "subscribers_name_trgm_idx";
--> statement-breakpoint
-- Which combinations of these filters occur, for the planner's estimates: taking them as independent, it guessed a
-- list's pending subscriptions or a status's sources to be common when none existed, and read whole tables.
CREATE STATISTICS "subscriptions_list_status_stats" (mcv) ON "list_id", "status" FROM "subscriptions";--> statement-breakpoint
CREATE STATISTICS "subscribers_status_source_stats" (mcv) ON "status", "source" FROM "subscribers";
