ALTER TYPE "public"."unsubscribe_method" ADD VALUE 'preferences';--> statement-breakpoint
CREATE TABLE "lists" (
	"id" serial PRIMARY KEY NOT NULL,
	"slug" text NOT NULL,
	"name" text,
	"description" text,
	"public" boolean DEFAULT true NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"consent_text_version" integer,
	"welcome_email" boolean,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"archived_at" timestamp with time zone,
	CONSTRAINT "lists_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
CREATE TABLE "subscriptions" (
	"subscriber_id" bigint NOT NULL,
	"list_id" integer NOT NULL,
	"status" "subscriber_status" DEFAULT 'pending' NOT NULL,
	"signed_up_at" timestamp with time zone NOT NULL,
	"signup_ip" "inet",
	"signup_user_agent" text,
	"consent_text_version" integer,
	"confirmed_at" timestamp with time zone,
	"confirm_ip" "inet",
	"confirm_user_agent" text,
	"unsubscribed_at" timestamp with time zone,
	"unsubscribe_method" "unsubscribe_method",
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "subscriptions_subscriber_id_list_id_pk" PRIMARY KEY("subscriber_id","list_id")
);
--> statement-breakpoint
ALTER TABLE "consent_events" ADD COLUMN "list_id" integer;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "list_id" integer;--> statement-breakpoint
ALTER TABLE "lists" ADD CONSTRAINT "lists_consent_text_version_consent_texts_version_fk" FOREIGN KEY ("consent_text_version") REFERENCES "public"."consent_texts"("version") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_subscriber_id_subscribers_id_fk" FOREIGN KEY ("subscriber_id") REFERENCES "public"."subscribers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_list_id_lists_id_fk" FOREIGN KEY ("list_id") REFERENCES "public"."lists"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_consent_text_version_consent_texts_version_fk" FOREIGN KEY ("consent_text_version") REFERENCES "public"."consent_texts"("version") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "subscriptions_list_status_idx" ON "subscriptions" USING btree ("list_id","status");--> statement-breakpoint
ALTER TABLE "consent_events" ADD CONSTRAINT "consent_events_list_id_lists_id_fk" FOREIGN KEY ("list_id") REFERENCES "public"."lists"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_list_id_lists_id_fk" FOREIGN KEY ("list_id") REFERENCES "public"."lists"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Today's list becomes the default list `main`; its name stays NULL, which means the LIST_NAME setting.
INSERT INTO "lists" ("slug", "is_default") VALUES ('main', true);--> statement-breakpoint
-- Every subscriber's status and consent evidence becomes their subscription to it, as it was.
INSERT INTO "subscriptions" ("subscriber_id", "list_id", "status", "signed_up_at", "signup_ip", "signup_user_agent",
  "consent_text_version", "confirmed_at", "confirm_ip", "confirm_user_agent", "unsubscribed_at", "unsubscribe_method", "updated_at")
SELECT s."id", l."id", s."status", s."signed_up_at", s."signup_ip", s."signup_user_agent", s."consent_text_version",
  s."confirmed_at", s."confirm_ip", s."confirm_user_agent", s."unsubscribed_at", s."unsubscribe_method", s."updated_at"
FROM "subscribers" s CROSS JOIN "lists" l WHERE l."slug" = 'main';--> statement-breakpoint
-- Mail and ledger rows about a subscription were about that list.
UPDATE "outbox" SET "list_id" = (SELECT "id" FROM "lists" WHERE "slug" = 'main') WHERE "kind" = 'welcome';--> statement-breakpoint
UPDATE "consent_events" SET "list_id" = (SELECT "id" FROM "lists" WHERE "slug" = 'main')
WHERE "type" IN ('signup', 'confirm', 'unsubscribe', 'resubscribe');--> statement-breakpoint
-- From now on a ledger row's list is fixed like the rest of it.
CREATE OR REPLACE FUNCTION "consent_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
    AND NEW."id" = OLD."id" AND NEW."occurred_at" = OLD."occurred_at" AND NEW."type" = OLD."type"
    AND NEW."method" IS NOT DISTINCT FROM OLD."method"
    AND NEW."list_id" IS NOT DISTINCT FROM OLD."list_id"
    -- Anonymising (erasure, retention): personal fields may only become NULL.
    AND (NEW."subscriber_id" IS NULL OR NEW."subscriber_id" = OLD."subscriber_id")
    AND (NEW."ip" IS NULL OR NEW."ip" = OLD."ip")
    AND (NEW."user_agent" IS NULL OR NEW."user_agent" = OLD."user_agent")
    -- The row count of an export is known only once its stream has ended: it may be added once.
    AND (NEW."details" = OLD."details"
      OR (OLD."type" = 'export' AND NOT OLD."details" ? 'rows' AND NEW."details" - 'rows' = OLD."details"))
  THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'consent_events is append-only: only anonymising an event or completing an export is allowed';
END
$$;--> statement-breakpoint
-- subscribers.status summarises the subscriptions: confirmed if any is, else pending if any is, else unsubscribed.
-- Kept here, once per statement, so no statement that changes a subscription can forget it.
CREATE FUNCTION "subscriber_status_sync"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Row by row through the keys (the primary keys of subscribers and subscriptions), whatever the planner believes
  -- about the tables' sizes: a join here read both tables whole when their statistics were stale.
  UPDATE "subscribers" s SET "status" = x."status"
  FROM (
    SELECT c."subscriber_id", (
      SELECT CASE
        WHEN bool_or(p."status" = 'confirmed') THEN 'confirmed'
        WHEN bool_or(p."status" = 'pending') THEN 'pending'
        ELSE 'unsubscribed' END::subscriber_status
      FROM "subscriptions" p WHERE p."subscriber_id" = c."subscriber_id") AS "status"
    FROM (SELECT DISTINCT "subscriber_id" FROM "changed") c
  ) x
  WHERE s."id" = x."subscriber_id" AND s."status" IS DISTINCT FROM x."status";
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "subscriptions_status_insert" AFTER INSERT ON "subscriptions"
REFERENCING NEW TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "subscriber_status_sync"();--> statement-breakpoint
CREATE TRIGGER "subscriptions_status_update" AFTER UPDATE ON "subscriptions"
REFERENCING NEW TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "subscriber_status_sync"();
