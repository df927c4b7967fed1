-- The lists each subscriber is on, in which status, as keys of the staff search's GIN index: a list filter with a
-- name fragment and a source was a probe of subscriptions for each of thousands of candidate rows, now it is one
-- more key intersected inside the index.
-- A subscription's keys: its list ('2') and its list with its status ('2:confirmed').
CREATE FUNCTION "subscription_keys"("list_id" integer, "status" subscriber_status) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT ARRAY["list_id"::text, "list_id"::text || ':' || "status"::text] $$;--> statement-breakpoint
DROP INDEX "subscribers_search_idx";--> statement-breakpoint
ALTER TABLE "subscribers" ADD COLUMN "memberships" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
-- Filled before the index exists, so it is built once.
UPDATE "subscribers" s SET "memberships" = ARRAY(
  SELECT k FROM "subscriptions" p, unnest(subscription_keys(p."list_id", p."status")) k
  WHERE p."subscriber_id" = s."id" ORDER BY k);--> statement-breakpoint
CREATE INDEX "subscribers_search_idx" ON "subscribers" USING gin ("status","source","memberships","email_normalized" gin_trgm_ops,lower("name") gin_trgm_ops);--> statement-breakpoint
-- The summary status and the memberships, kept together once per statement that changes subscriptions. A row whose
-- values are already right (a new subscriber's sign-up writes them as it inserts) is not updated.
CREATE OR REPLACE FUNCTION "subscriber_status_sync"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
BEGIN
  -- The subscribers are found by primary key (id = ANY of the ids), whatever the planner believes about the table's
  -- size: joined to the changed rows, a plan made while the table was small read it whole for every sign-up batch
  -- (a third of PostgreSQL's time per sign-up in the sign-up bench), and a join read both tables whole when their
  -- statistics were stale.
  SELECT array_agg(DISTINCT "subscriber_id") INTO ids FROM "changed";
  -- INSERT … ON CONFLICT DO UPDATE fires the UPDATE trigger too, with no rows when nothing conflicted (every new
  -- sign-up): nothing to plan then.
  IF ids IS NULL THEN
    RETURN NULL;
  END IF;
  UPDATE "subscribers" s SET "status" = x."status", "memberships" = x."memberships"
  FROM (
    SELECT c."id", (
      SELECT CASE
        WHEN bool_or(p."status" = 'confirmed') THEN 'confirmed'
        WHEN bool_or(p."status" = 'pending') THEN 'pending'
        ELSE 'unsubscribed' END::subscriber_status
      FROM "subscriptions" p WHERE p."subscriber_id" = c."id") AS "status",
      ARRAY(
        SELECT k FROM "subscriptions" p, unnest(subscription_keys(p."list_id", p."status")) k
        WHERE p."subscriber_id" = c."id" ORDER BY k) AS "memberships"
    FROM unnest(ids) c("id")
  ) x
  WHERE s."id" = ANY(ids) AND s."id" = x."id"
    AND (s."status" IS DISTINCT FROM x."status" OR s."memberships" IS DISTINCT FROM x."memberships");
  RETURN NULL;
END
$$;
