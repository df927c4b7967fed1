-- Staff invitations by mail: an outbox row is either a subscriber's mail or a staff account's one-time link to set a password.
ALTER TYPE "public"."outbox_kind" ADD VALUE 'staff-invite';--> statement-breakpoint
ALTER TABLE "outbox" ALTER COLUMN "subscriber_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "staff_id" integer;--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_staff_id_staff_accounts_id_fk" FOREIGN KEY ("staff_id") REFERENCES "public"."staff_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "outbox_staff_idx" ON "outbox" USING btree ("staff_id") WHERE staff_id IS NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_one_recipient" CHECK ((subscriber_id IS NULL) <> (staff_id IS NULL));