ALTER TYPE "public"."consent_event_type" ADD VALUE 'import';--> statement-breakpoint
ALTER TYPE "public"."unsubscribe_method" ADD VALUE 'import';