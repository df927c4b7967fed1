-- Unsubscribe links without a server secret in SQL, confirmation mails throttled per mailbox and per domain.
-- unsubscribe_secret: added without a default first, so existing rows stay NULL (the app fills them at start with the
-- link their mails already carry, which only it can compute), and only rows inserted from now on get a random one.
-- The per-address throttle columns move to mailbox_throttle (one row per mailbox, not per address).
CREATE TABLE "domain_throttle" (
	"domain" text PRIMARY KEY NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"sends" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mailbox_throttle" (
	"mailbox" text PRIMARY KEY NOT NULL,
	"last_sent_at" timestamp with time zone NOT NULL,
	"day" date NOT NULL,
	"sends" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "subscribers" ADD COLUMN "mailbox" text;--> statement-breakpoint
-- The same rule as src/domain/mailbox.ts: no +tag, and Gmail ignores dots and answers for googlemail.com too.
UPDATE "subscribers" SET "mailbox" = CASE WHEN x.d IN ('gmail.com', 'googlemail.com') THEN replace(x.l, '.', '') || '@gmail.com' ELSE x.l || '@' || x.d END
FROM (SELECT "id", coalesce(nullif(regexp_replace(split_part("email_normalized", '@', 1), '\+.*$', ''), ''), split_part("email_normalized", '@', 1)) AS l,
  split_part("email_normalized", '@', 2) AS d FROM "subscribers") x
WHERE x."id" = "subscribers"."id";--> statement-breakpoint
ALTER TABLE "subscribers" ALTER COLUMN "mailbox" SET NOT NULL;--> statement-breakpoint
INSERT INTO "mailbox_throttle" ("mailbox", "last_sent_at", "day", "sends")
SELECT "mailbox", max("confirm_sent_at"), max(coalesce("confirm_sends_day", ("confirm_sent_at" AT TIME ZONE 'UTC')::date)),
  greatest(sum("confirm_sends_count"), 1)::int
FROM "subscribers" WHERE "status" = 'pending' AND "confirm_sent_at" IS NOT NULL GROUP BY "mailbox";--> statement-breakpoint
ALTER TABLE "subscribers" ADD COLUMN "unsubscribe_secret" text;--> statement-breakpoint
ALTER TABLE "subscribers" ALTER COLUMN "unsubscribe_secret" SET DEFAULT rtrim(translate(encode(decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'), 'base64'), '+/', '-_'), '=');--> statement-breakpoint
ALTER TABLE "suppressions" ADD COLUMN "key_id" text;--> statement-breakpoint
ALTER TABLE "subscribers" DROP COLUMN "confirm_sent_at";--> statement-breakpoint
ALTER TABLE "subscribers" DROP COLUMN "confirm_sends_day";--> statement-breakpoint
ALTER TABLE "subscribers" DROP COLUMN "confirm_sends_count";
