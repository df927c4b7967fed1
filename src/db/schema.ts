// Drizzle schema: the subscriber list, its transactional outbox (mail written in the same transaction as the change
// that causes it) and the consent records (consent texts, the consent ledger, the suppression list).
import { sql } from 'drizzle-orm'
import {
  pgTable, pgEnum, bigserial, bigint, uuid, text, timestamp, integer, inet, jsonb, date, index, uniqueIndex
} from 'drizzle-orm/pg-core'

export const subscriberStatus = pgEnum('subscriber_status', ['pending', 'confirmed', 'unsubscribed'])
export type SubscriberStatus = typeof subscriberStatus.enumValues[number]
export const unsubscribeMethod = pgEnum('unsubscribe_method', ['link', 'one-click'])
export const outboxKind = pgEnum('outbox_kind', ['confirmation', 'welcome'])
// sending = claimed under a lease (next_attempt_at is the lease's end); cancelled = no longer wanted (e.g. unsubscribed).
export const outboxStatus = pgEnum('outbox_status', ['pending', 'sending', 'sent', 'dead', 'cancelled'])

// The consent wording exactly as shown, stored once per distinct text; rows are immutable (a trigger refuses
// UPDATE and DELETE). EDPB 05/2020 ¶108: keep a copy of what was presented, not a reference to a configuration.
export const consentTexts = pgTable('consent_texts', {
  version: integer('version').primaryKey().generatedAlwaysAsIdentity(),
  text: text('text').notNull(),
  // Hex SHA-256 of the text: finds the version of a configured text, and lets anyone check a copy.
  sha256: text('sha256').notNull().unique(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
})

export const subscribers = pgTable('subscribers', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  // Links carry this, never the serial id.
  publicId: uuid('public_id').notNull().default(sql`gen_random_uuid()`).unique(),
  // As typed, for display.
  email: text('email').notNull(),
  // Whole address lower-cased, domain in ASCII (punycode): the identity of a subscriber.
  emailNormalized: text('email_normalized').notNull(),
  // The mailbox the address delivers to (src/domain/mailbox.ts): `jane+news@` is `jane@`. Confirmation mails are
  // throttled per mailbox, so sub-addresses cannot bomb one inbox.
  mailbox: text('mailbox').notNull(),
  name: text('name'),
  // The language of the pages the subscriber signed up on (a locales/ folder name): every mail to them is in it.
  // NULL for rows from before it was stored: English.
  language: text('language'),
  status: subscriberStatus('status').notNull().default('pending'),
  source: text('source'),
  // Consent evidence of the latest sign-up: when, from where, with which wording (EDPB Guidelines 05/2020 ¶108).
  signedUpAt: timestamp('signed_up_at', { withTimezone: true }).notNull().defaultNow(),
  signupIp: inet('signup_ip'),
  signupUserAgent: text('signup_user_agent'),
  // The consent text version shown at the latest sign-up (the text itself is in consent_texts).
  consentTextVersion: integer('consent_text_version').references(() => consentTexts.version),
  confirmedAt: timestamp('confirmed_at', { withTimezone: true }),
  confirmIp: inet('confirm_ip'),
  confirmUserAgent: text('confirm_user_agent'),
  unsubscribedAt: timestamp('unsubscribed_at', { withTimezone: true }),
  unsubscribeMethod: unsubscribeMethod('unsubscribe_method'),
  // SHA-256 of the confirmation token; the raw token only travels in the mail (OWASP ASVS 5.0 11.5.1).
  confirmTokenHash: text('confirm_token_hash'),
  confirmTokenExpiresAt: timestamp('confirm_token_expires_at', { withTimezone: true }),
  // The secret half of the unsubscribe link (`/unsubscribe/<public_id>.<secret>`): random, never derived from a
  // server secret, so TOKEN_SECRET can change without breaking links in mail already sent. Stored as is because
  // the CSV export prints the link. Rows from before it existed got the link their mails carried (see
  // src/plugins/lifecycle.ts); new rows get 244 random bits from PostgreSQL's CSPRNG (two random UUIDs), base64url:
  // 43 characters, like the old signatures, so a link stays under the router's 100-character parameter limit.
  unsubscribeSecret: text('unsubscribe_secret').default(sql`rtrim(translate(encode(decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'), 'base64'), '+/', '-_'), '=')`),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
}, (t) => [
  uniqueIndex('subscribers_email_normalized_key').on(t.emailNormalized),
  uniqueIndex('subscribers_confirm_token_hash_key').on(t.confirmTokenHash),
  index('subscribers_status_signed_up_at_idx').on(t.status, t.signedUpAt)
])

export const outbox = pgTable('outbox', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  subscriberId: bigint('subscriber_id', { mode: 'number' }).notNull()
    .references(() => subscribers.id, { onDelete: 'cascade' }),
  kind: outboxKind('kind').notNull(),
  status: outboxStatus('status').notNull().default('pending'),
  // Stored once and reused on every retry, so a resend is recognisably the same message.
  messageId: text('message_id').notNull(),
  // What the mail needs that the subscriber row cannot give back (the raw confirmation token); wiped once sent.
  payload: jsonb('payload').$type<{ token?: string }>(),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
  lastError: text('last_error'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  sentAt: timestamp('sent_at', { withTimezone: true })
}, (t) => [
  index('outbox_due_idx').on(t.nextAttemptAt).where(sql`status in ('pending', 'sending')`),
  index('outbox_subscriber_idx').on(t.subscriberId)
])

export const consentEventType = pgEnum('consent_event_type',
  ['signup', 'confirm', 'unsubscribe', 'resubscribe', 'erasure', 'export', 'access'])

// The consent ledger: one row per consent change or use of personal data, written in the same statement as the
// change. Append-only: a trigger refuses DELETE, and UPDATE except anonymising (erasure, retention) and adding
// an export's row count once its stream has ended.
export const consentEvents = pgTable('consent_events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
  // NULL once the subscriber is erased or purged, and for events about no one subscriber (export).
  subscriberId: bigint('subscriber_id', { mode: 'number' }).references(() => subscribers.id, { onDelete: 'set null' }),
  type: consentEventType('type').notNull(),
  ip: inet('ip'),
  userAgent: text('user_agent'),
  // How: form | api | link | one-click | staff-api | cli | self-service.
  method: text('method'),
  // Never an address: e.g. consent text version, source, staff credential label, export filters and row count.
  details: jsonb('details').$type<Record<string, unknown>>().notNull().default({})
}, (t) => [
  index('consent_events_subscriber_idx').on(t.subscriberId),
  index('consent_events_occurred_at_idx').on(t.occurredAt)
])

// Erased addresses: only an HMAC (keyed with TOKEN_SECRET) of the normalised address, so an import cannot silently
// re-add them (ICO: suppress rather than delete), while the person can still sign up and confirm.
export const suppressions = pgTable('suppressions', {
  emailHash: text('email_hash').primaryKey(),
  // Which secret made the hash (a fingerprint, not the secret): after TOKEN_SECRET changes, entries made with
  // TOKEN_SECRET_PREVIOUS are still recognised.
  keyId: text('key_id'),
  reason: text('reason').notNull().default('erasure'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
})

// Confirmation mails sent per mailbox (against list-bombing): at most one per CONFIRM_COOLDOWN_MINUTES and
// CONFIRM_DAILY_CAP a day, whatever sub-address or list was asked for. Cleared when the person confirms or leaves.
export const mailboxThrottle = pgTable('mailbox_throttle', {
  mailbox: text('mailbox').primaryKey(),
  lastSentAt: timestamp('last_sent_at', { withTimezone: true }).notNull(),
  day: date('day', { mode: 'string' }).notNull(),
  sends: integer('sends').notNull()
})

// Confirmation mails sent per recipient domain in the current hour (CONFIRM_DOMAIN_HOURLY_CAP), so one
// organisation's domain cannot be flooded through many mailboxes. Large mail providers are not counted.
export const domainThrottle = pgTable('domain_throttle', {
  domain: text('domain').primaryKey(),
  windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
  sends: integer('sends').notNull()
})
