-- Custom migration (drizzle-kit generate --custom): moves the consent text of existing subscribers into versioned
-- consent_texts rows, backfills their ledger from the evidence columns, and installs the guards that make
-- consent_texts immutable and consent_events append-only, so the proof of consent cannot be changed after the fact
-- (GDPR Article 7(1): the controller must be able to demonstrate consent).
INSERT INTO "consent_texts" ("text", "sha256", "created_at")
SELECT "consent_text", encode(sha256(convert_to("consent_text", 'UTF8')), 'hex'), min("signed_up_at")
FROM "subscribers" WHERE "consent_text" IS NOT NULL
GROUP BY "consent_text" ORDER BY min("signed_up_at");--> statement-breakpoint
UPDATE "subscribers" s SET "consent_text_version" = c."version"
FROM "consent_texts" c WHERE c."text" = s."consent_text";--> statement-breakpoint
INSERT INTO "consent_events" ("occurred_at", "subscriber_id", "type", "ip", "user_agent", "method", "details")
SELECT e.* FROM (
  SELECT "signed_up_at", "id", 'signup'::consent_event_type, "signup_ip", "signup_user_agent", NULL::text,
    jsonb_build_object('consentTextVersion', "consent_text_version", 'source', "source", 'backfilled', true)
  FROM "subscribers"
  UNION ALL
  SELECT "confirmed_at", "id", 'confirm', "confirm_ip", "confirm_user_agent", 'link', '{"backfilled": true}'::jsonb
  FROM "subscribers" WHERE "confirmed_at" IS NOT NULL
  UNION ALL
  SELECT "unsubscribed_at", "id", 'unsubscribe', NULL, NULL, "unsubscribe_method"::text, '{"backfilled": true}'::jsonb
  FROM "subscribers" WHERE "unsubscribed_at" IS NOT NULL
) e ORDER BY 1;--> statement-breakpoint
CREATE FUNCTION "consent_texts_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'consent_texts rows are immutable: a changed text is a new version';
END
$$;--> statement-breakpoint
CREATE TRIGGER "consent_texts_immutable" BEFORE UPDATE OR DELETE ON "consent_texts"
FOR EACH ROW EXECUTE FUNCTION "consent_texts_immutable"();--> statement-breakpoint
CREATE FUNCTION "consent_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
    AND NEW."id" = OLD."id" AND NEW."occurred_at" = OLD."occurred_at" AND NEW."type" = OLD."type"
    AND NEW."method" IS NOT DISTINCT FROM OLD."method"
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
CREATE TRIGGER "consent_events_append_only" BEFORE UPDATE OR DELETE ON "consent_events"
FOR EACH ROW EXECUTE FUNCTION "consent_events_append_only"();
