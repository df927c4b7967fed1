CREATE TYPE "public"."consent_event_type" AS ENUM('signup', 'confirm', 'unsubscribe', 'resubscribe', 'erasure', 'export', 'access');--> statement-breakpoint
CREATE TABLE "consent_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"subscriber_id" bigint,
	"type" "consent_event_type" NOT NULL,
	"ip" "inet",
	"user_agent" text,
	"method" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consent_texts" (
	"version" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "consent_texts_version_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"text" text NOT NULL,
	"sha256" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "consent_texts_sha256_unique" UNIQUE("sha256")
);
--> statement-breakpoint
CREATE TABLE "suppressions" (
	"email_hash" text PRIMARY KEY NOT NULL,
	"reason" text DEFAULT 'erasure' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "subscribers" ADD COLUMN "consent_text_version" integer;--> statement-breakpoint
ALTER TABLE "consent_events" ADD CONSTRAINT "consent_events_subscriber_id_subscribers_id_fk" FOREIGN KEY ("subscriber_id") REFERENCES "public"."subscribers"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "consent_events_subscriber_idx" ON "consent_events" USING btree ("subscriber_id");--> statement-breakpoint
CREATE INDEX "consent_events_occurred_at_idx" ON "consent_events" USING btree ("occurred_at");--> statement-breakpoint
ALTER TABLE "subscribers" ADD CONSTRAINT "subscribers_consent_text_version_consent_texts_version_fk" FOREIGN KEY ("consent_text_version") REFERENCES "public"."consent_texts"("version") ON DELETE no action ON UPDATE no action;