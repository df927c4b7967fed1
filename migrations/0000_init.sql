CREATE TYPE "public"."outbox_kind" AS ENUM('confirmation', 'welcome');--> statement-breakpoint
CREATE TYPE "public"."outbox_status" AS ENUM('pending', 'sending', 'sent', 'dead', 'cancelled');--> statement-breakpoint
CREATE TYPE "public"."subscriber_status" AS ENUM('pending', 'confirmed', 'unsubscribed');--> statement-breakpoint
CREATE TYPE "public"."unsubscribe_method" AS ENUM('link', 'one-click');--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subscriber_id" bigint NOT NULL,
	"kind" "outbox_kind" NOT NULL,
	"status" "outbox_status" DEFAULT 'pending' NOT NULL,
	"message_id" text NOT NULL,
	"payload" jsonb,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "subscribers" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"public_id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"email_normalized" text NOT NULL,
	"name" text,
	"status" "subscriber_status" DEFAULT 'pending' NOT NULL,
	"source" text,
	"signed_up_at" timestamp with time zone DEFAULT now() NOT NULL,
	"signup_ip" "inet",
	"signup_user_agent" text,
	"consent_text" text,
	"confirmed_at" timestamp with time zone,
	"confirm_ip" "inet",
	"confirm_user_agent" text,
	"unsubscribed_at" timestamp with time zone,
	"unsubscribe_method" "unsubscribe_method",
	"confirm_token_hash" text,
	"confirm_token_expires_at" timestamp with time zone,
	"confirm_sent_at" timestamp with time zone,
	"confirm_sends_day" date,
	"confirm_sends_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "subscribers_public_id_unique" UNIQUE("public_id")
);
--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_subscriber_id_subscribers_id_fk" FOREIGN KEY ("subscriber_id") REFERENCES "public"."subscribers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "outbox_due_idx" ON "outbox" USING btree ("next_attempt_at") WHERE status in ('pending', 'sending');--> statement-breakpoint
CREATE INDEX "outbox_subscriber_idx" ON "outbox" USING btree ("subscriber_id");--> statement-breakpoint
CREATE UNIQUE INDEX "subscribers_email_normalized_key" ON "subscribers" USING btree ("email_normalized");--> statement-breakpoint
CREATE UNIQUE INDEX "subscribers_confirm_token_hash_key" ON "subscribers" USING btree ("confirm_token_hash");--> statement-breakpoint
CREATE INDEX "subscribers_status_signed_up_at_idx" ON "subscribers" USING btree ("status","signed_up_at");