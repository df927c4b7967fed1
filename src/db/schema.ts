// Drizzle schema: the subscriber list, its transactional outbox (mail written in the same transaction as the change
// that causes it) and the consent records (consent texts, the consent ledger, the suppression list).
import { sql } from 'drizzle-orm'
import {
  pgTable, pgEnum, pgSequence, bigserial, bigint, serial, uuid, text, timestamp, integer, inet, jsonb, date, boolean,
  index, uniqueIndex, primaryKey, check, type AnyPgColumn
} from 'drizzle-orm/pg-core'

export const subscriberStatus = pgEnum('subscriber_status', ['pending', 'confirmed', 'unsubscribed'])
export type SubscriberStatus = typeof subscriberStatus.enumValues[number]
// import: the address had left the list in the service it was imported from (the file said so).
export const unsubscribeMethod = pgEnum('unsubscribe_method', ['link', 'one-click', 'preferences', 'staff', 'import'])
// staff-invite: a staff member's one-time link to set a password (sent to a staff account, not a subscriber).
export const outboxKind = pgEnum('outbox_kind', ['confirmation', 'welcome', 'staff-invite'])
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

// The lists people can join (a council's "Bin collection changes" and "Events"). A deployment starts with one, `main`.
export const lists = pgTable('lists', {
  id: serial('id').primaryKey(),
  // In URLs (/l/<slug>), in the API and in the export.
  slug: text('slug').notNull().unique(),
  // NULL: the LIST_NAME setting (the list every deployment starts with follows it).
  name: text('name'),
  description: text('description'),
  // Hidden lists are never offered to visitors nor accepted from the sign-up form: staff fill them.
  public: boolean('public').notNull().default(true),
  // A sign-up that names no list joins the default lists.
  isDefault: boolean('is_default').notNull().default(false),
  // The consent wording of this list; NULL: the CONSENT_TEXT setting.
  consentTextVersion: integer('consent_text_version').references(() => consentTexts.version),
  // NULL: the WELCOME_EMAIL setting.
  welcomeEmail: boolean('welcome_email'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  // Archived lists take no sign-ups and are not offered; their subscriptions and ledger rows are kept.
  archivedAt: timestamp('archived_at', { withTimezone: true })
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
  // A summary of the subscriptions, kept by a trigger on them: confirmed if any is, else pending if any is, else
  // unsubscribed. Each list's own status and consent evidence are in subscriptions.
  status: subscriberStatus('status').notNull().default('pending'),
  // The lists the subscriber is on, as the staff search's keys: `<list id>` and `<list id>:<status>` for each
  // subscription, sorted (subscription_keys() in SQL). Kept by the same trigger as status, so the search's list filter
  // is one more key in its GIN index rather than a probe of subscriptions per candidate row.
  memberships: text('memberships').array().notNull().default(sql`'{}'::text[]`),
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
  index('subscribers_status_signed_up_at_idx').on(t.status, t.signedUpAt),
  // The staff search: newest first with keyset paging, and one GIN index for its filters: status and source
  // (btree_gin) with partial matches on address and name (pg_trgm trigrams serve LIKE '%…%';
  // https://www.postgresql.org/docs/current/pgtrgm.html#PGTRGM-INDEX), so filters that are each common but rare
  // together ("jan" among the unsubscribed) are intersected in the index, not by reading rows. List memberships are
  // in it too, so a list with a name fragment and a source is one index scan.
  index('subscribers_signed_up_at_id_idx').on(t.signedUpAt, t.id),
  index('subscribers_search_idx').using('gin', t.status, t.source, t.memberships, t.emailNormalized.op('gin_trgm_ops'), sql`lower(${t.name}) gin_trgm_ops`)
])

// A subscriber on one list: its own status and consent evidence (EDPB Guidelines 05/2020 ¶108), one row per list.
// The ledger keeps each change (consent_events.list_id).
export const subscriptions = pgTable('subscriptions', {
  subscriberId: bigint('subscriber_id', { mode: 'number' }).notNull()
    .references(() => subscribers.id, { onDelete: 'cascade' }),
  listId: integer('list_id').notNull().references(() => lists.id),
  // pending also covers a subscription left and asked for again (signed_up_at after unsubscribed_at): the status
  // stays unsubscribed until the new confirmation, so nothing is sent meanwhile.
  status: subscriberStatus('status').notNull().default('pending'),
  signedUpAt: timestamp('signed_up_at', { withTimezone: true }).notNull(),
  signupIp: inet('signup_ip'),
  signupUserAgent: text('signup_user_agent'),
  consentTextVersion: integer('consent_text_version').references(() => consentTexts.version),
  confirmedAt: timestamp('confirmed_at', { withTimezone: true }),
  confirmIp: inet('confirm_ip'),
  confirmUserAgent: text('confirm_user_agent'),
  unsubscribedAt: timestamp('unsubscribed_at', { withTimezone: true }),
  unsubscribeMethod: unsubscribeMethod('unsubscribe_method'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
}, (t) => [
  primaryKey({ columns: [t.subscriberId, t.listId] }),
  index('subscriptions_list_status_idx').on(t.listId, t.status)
])

export const outbox = pgTable('outbox', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  // A subscriber's mail, or (staff-invite) a staff account's: exactly one of the two is set.
  subscriberId: bigint('subscriber_id', { mode: 'number' })
    .references(() => subscribers.id, { onDelete: 'cascade' }),
  staffId: integer('staff_id').references((): AnyPgColumn => staffAccounts.id, { onDelete: 'cascade' }),
  kind: outboxKind('kind').notNull(),
  // The list a welcome mail is for (its List-Id and one-click link); a confirmation names its lists in the payload.
  listId: integer('list_id').references(() => lists.id),
  status: outboxStatus('status').notNull().default('pending'),
  // Stored once and reused on every retry, so a resend is recognisably the same message.
  messageId: text('message_id').notNull(),
  // What the mail needs that the subscriber row cannot give back (the raw confirmation token); wiped once sent.
  payload: jsonb('payload').$type<{ token?: string, lists?: number[], language?: string }>(),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
  lastError: text('last_error'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  sentAt: timestamp('sent_at', { withTimezone: true })
}, (t) => [
  index('outbox_due_idx').on(t.nextAttemptAt).where(sql`status in ('pending', 'sending')`),
  index('outbox_subscriber_idx').on(t.subscriberId),
  index('outbox_staff_idx').on(t.staffId).where(sql`staff_id IS NOT NULL`),
  check('outbox_one_recipient', sql`(subscriber_id IS NULL) <> (staff_id IS NULL)`)
])

export const consentEventType = pgEnum('consent_event_type',
  ['signup', 'confirm', 'unsubscribe', 'resubscribe', 'erasure', 'export', 'access', 'import'])

// The consent ledger: one row per consent change or use of personal data, written in the same statement as the
// change. Append-only: a trigger refuses DELETE, and UPDATE except anonymising (erasure, retention) and adding
// an export's row count once its stream has ended.
export const consentEvents = pgTable('consent_events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
  // NULL once the subscriber is erased or purged, and for events about no one subscriber (export).
  subscriberId: bigint('subscriber_id', { mode: 'number' }).references(() => subscribers.id, { onDelete: 'set null' }),
  type: consentEventType('type').notNull(),
  // The list a subscription event is about; NULL for events about the whole subscriber (erasure, access, export).
  listId: integer('list_id').references(() => lists.id),
  ip: inet('ip'),
  userAgent: text('user_agent'),
  // How: form | api | link | one-click | preferences | staff-api | cli | self-service.
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

// Webhooks: events written in the same statement as the change that caused them, put in one order by a single
// writer (src/webhooks/dispatch.ts), fanned out to endpoints and delivered at least once (src/webhooks/worker.ts).
// waiting = behind an earlier delivery of the same subscriber to the same endpoint; it becomes pending when that one
// is delivered or dead, so a claim never has to look past the first of each subscriber.
export const webhookDeliveryStatus = pgEnum('webhook_delivery_status', ['waiting', 'pending', 'sending', 'delivered', 'dead'])

// The feed's order: assigned by the dispatcher, one transaction at a time, so a reader that saw seq n never later
// finds an event below n (an id from a bigserial is taken at insert, not at commit, and can appear late).
export const webhookEventSeq = pgSequence('webhook_event_seq')

export const webhookEvents = pgTable('webhook_events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  // The `webhook-id` of every delivery of this event (Standard Webhooks: the same on every retry).
  publicId: uuid('public_id').notNull().default(sql`gen_random_uuid()`).unique(),
  // NULL until the dispatcher has put the event in order.
  seq: bigint('seq', { mode: 'number' }).unique(),
  type: text('type').notNull(),
  // Deliveries with the same key reach an endpoint in order: the subscriber's public id, or `list:<slug>`.
  orderKey: text('order_key').notNull(),
  // The subscriber the event is about: their events (which carry the address) go when they are erased or purged.
  subscriberId: bigint('subscriber_id', { mode: 'number' }).references(() => subscribers.id, { onDelete: 'cascade' }),
  // For endpoints that want one list; NULL for events about a subscriber as a whole (erasure), which go to all.
  listSlug: text('list_slug'),
  data: jsonb('data').$type<Record<string, unknown>>().notNull(),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow()
}, (t) => [
  index('webhook_events_unsequenced_idx').on(t.id).where(sql`seq IS NULL`),
  index('webhook_events_occurred_at_idx').on(t.occurredAt),
  index('webhook_events_subscriber_idx').on(t.subscriberId)
])

export const webhookEndpoints = pgTable('webhook_endpoints', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  publicId: uuid('public_id').notNull().default(sql`gen_random_uuid()`).unique(),
  url: text('url').notNull(),
  description: text('description'),
  eventTypes: text('event_types').array().notNull(),
  listSlug: text('list_slug'),
  enabled: boolean('enabled').notNull().default(true),
  // Why it was turned off, when the service did it (a 410 Gone from the target).
  disabledReason: text('disabled_reason'),
  // `whsec_<base64>`; the previous one still signs too until previous_secret_expires_at (rotation overlap).
  secret: text('secret').notNull(),
  previousSecret: text('previous_secret'),
  previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
})

export const webhookDeliveries = pgTable('webhook_deliveries', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  endpointId: bigint('endpoint_id', { mode: 'number' }).notNull()
    .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
  eventId: bigint('event_id', { mode: 'number' }).notNull()
    .references(() => webhookEvents.id, { onDelete: 'cascade' }),
  // Copied from the event: of each (endpoint, order key), only the first unfinished one is pending, the rest waiting.
  seq: bigint('seq', { mode: 'number' }).notNull(),
  orderKey: text('order_key').notNull(),
  status: webhookDeliveryStatus('status').notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  // While sending: the end of the lease. Infinity while its endpoint is turned off.
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
  lastStatusCode: integer('last_status_code'),
  lastError: text('last_error'),
  // The first few hundred bytes of the last answer, no more: the target's body is not ours to keep.
  lastResponse: text('last_response'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  deliveredAt: timestamp('delivered_at', { withTimezone: true })
}, (t) => [
  uniqueIndex('webhook_deliveries_endpoint_event_key').on(t.endpointId, t.eventId),
  index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`status in ('pending', 'sending')`),
  index('webhook_deliveries_chain_idx').on(t.endpointId, t.orderKey, t.seq).where(sql`status in ('waiting', 'pending', 'sending')`),
  index('webhook_deliveries_log_idx').on(t.endpointId, t.id)
])

// The staff console: personal staff accounts with a role, their server-side sessions, API keys for scripts, and an
// audit trail of staff actions that are not consent events (accounts, keys, mail retries, unsubscribes by staff).
export const staffRole = pgEnum('staff_role', ['viewer', 'editor', 'owner'])

export const staffAccounts = pgTable('staff_accounts', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  email: text('email').notNull(),
  emailNormalized: text('email_normalized').notNull(),
  role: staffRole('role').notNull(),
  // argon2id PHC string (src/security/passwords.ts); NULL until the person has set one through their link.
  passwordHash: text('password_hash'),
  disabledAt: timestamp('disabled_at', { withTimezone: true }),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastLoginAt: timestamp('last_login_at', { withTimezone: true })
}, (t) => [uniqueIndex('staff_accounts_email_normalized_key').on(t.emailNormalized)])

// One-time links to set (or reset) a password: only the SHA-256 of the token is stored, as for confirmation tokens.
export const staffPasswordTokens = pgTable('staff_password_tokens', {
  tokenHash: text('token_hash').primaryKey(),
  staffId: integer('staff_id').notNull().references(() => staffAccounts.id, { onDelete: 'cascade' }),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
}, (t) => [index('staff_password_tokens_staff_idx').on(t.staffId)])

// Sessions live in PostgreSQL so every instance sees a login and a logout at once. The cookie holds a random id;
// only its SHA-256 is stored, so a copy of the table cannot be replayed (OWASP Session Management Cheat Sheet).
export const staffSessions = pgTable('staff_sessions', {
  idHash: text('id_hash').primaryKey(),
  staffId: integer('staff_id').notNull().references(() => staffAccounts.id, { onDelete: 'cascade' }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
  // The absolute end, however active the session is.
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  ip: inet('ip'),
  userAgent: text('user_agent')
}, (t) => [index('staff_sessions_staff_idx').on(t.staffId)])

// API keys: `jl_` and 43 random characters, shown once; stored as SHA-256 (a random 256-bit key needs no slow hash).
export const apiKeys = pgTable('api_keys', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull(),
  role: staffRole('role').notNull(),
  keyHash: text('key_hash').notNull(),
  // The first characters of the key, so staff can tell keys apart without the secret.
  prefix: text('prefix').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true })
}, (t) => [uniqueIndex('api_keys_key_hash_key').on(t.keyHash)])

// Staff actions that are not consent events. Exports, subject access and erasures are in consent_events (with the
// actor in details); the audit page shows both.
export const staffAudit = pgTable('staff_audit', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  // What it was done to: a staff address, a key name, an outbox id, a subscriber's public id. Never a subscriber's
  // address (the ledger is kept after erasure).
  target: text('target'),
  ip: inet('ip'),
  details: jsonb('details').$type<Record<string, unknown>>().notNull().default({})
}, (t) => [index('staff_audit_occurred_at_idx').on(t.occurredAt)])
