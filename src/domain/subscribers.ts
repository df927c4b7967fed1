// The subscriber lifecycle: confirm and unsubscribe (sign-ups are batched in ./signup-writer.ts). Plain functions
// over the database (no HTTP here). Each change is one SQL statement, so the subscriber row and its outbox message
// commit together (transactional outbox), and its consent_events row is a further CTE of the same statement, so
// the ledger cannot miss or invent one.
import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import { subscriptionEvents } from './events.js'
import type { Lists } from './lists.js'
import type { Secrets } from './secrets.js'
import { suppressionHashes } from './suppression.js'
import { hashToken, parseUnsubscribeToken, secretMatches } from './tokens.js'

export interface LifecycleDeps {
  database: Database
  now: () => Date
  /** Domain part of Message-IDs: the sending domain (RFC 5322 §3.6.4). */
  messageIdDomain: string
  confirmTtlHours: number
  confirmCooldownMinutes: number
  confirmDailyCap: number
  /** Confirmation mails per recipient domain per hour (large providers excepted); 0 = no cap. */
  confirmDomainHourlyCap: number
  /** Sign-ups that may wait for the database before more are refused with 503. */
  signupQueueMax: number
  welcomeEmail: boolean
  listName: string
  /** consent_texts.version of the English consent text (registered at start, see consent.ts). */
  consentTextVersion: number
  /** The same per language: a sign-up records the version its page showed. */
  consentTextVersions?: Record<string, number>
  /** TOKEN_SECRET (and the previous one while it is being replaced), for suppression hashes computed in Node. */
  secrets: Secrets
  /** The lists, cached. */
  lists: Lists
  /** Where the sign-up writer reports what operators should know (a domain cap reached). */
  warn?: (data: object, message: string) => void
}

export interface SignupInput {
  email: string
  emailNormalized: string
  name?: string
  /** The language of the sign-up's pages (a shipped catalogue): its mails are written in it. */
  language?: string
  source?: string
  ip?: string
  userAgent?: string
  /** How the sign-up arrived: the hosted/embedded HTML form or the JSON API. */
  method?: 'form' | 'api'
  /** The page the form was on, as the browser said (Origin header), for the consent record. */
  form?: string
  /** The lists asked for (ids of open lists; see Lists.forSignup); the default lists when not given. */
  listIds?: number[]
}

export const newMessageId = (domain: string): string => `<${randomUUID()}@${domain}>`

export type ConfirmResult = 'confirmed' | 'already-confirmed' | 'expired' | 'invalid'

export interface Evidence { ip?: string, userAgent?: string }

// A subscription waits for a confirmation while pending, and also when it was left and asked for again since (its
// status stays unsubscribed until then, so nothing but the confirmation is sent to it).
export const AWAITING = '(p.status = \'pending\' OR (p.status = \'unsubscribed\' AND p.signed_up_at > p.unsubscribed_at))'
// On the list or waiting to be: what leaving a list changes.
const ACTIVE = '(p.status <> \'unsubscribed\' OR p.signed_up_at > p.unsubscribed_at)'

/**
 * Confirms every subscription of the token's subscriber that waits for a confirmation (all the lists asked for),
 * and queues a welcome mail per list that sends one. Repeats change nothing.
 */
export async function confirm (deps: LifecycleDeps, token: string, evidence: Evidence): Promise<ConfirmResult> {
  const now = deps.now().toISOString()
  const tokenHash = hashToken(token)
  // The address first, for its suppression hashes: they are computed here, so no secret goes to the database.
  const [owner] = await deps.database.rows<{ email_normalized: string }>(sql`
    SELECT email_normalized FROM subscribers WHERE confirm_token_hash = ${tokenHash}`)
  if (!owner) return 'invalid'
  const hashes = suppressionHashes(deps.secrets, owner.email_normalized)
  const ip = evidence.ip ?? null
  const userAgent = evidence.userAgent ?? null
  const [row] = await deps.database.rows<{ status: string, live: boolean, awaiting: boolean, changed: number }>(sql`
    WITH target AS (
      SELECT s.id, s.status, s.confirm_token_expires_at > ${now} AS live,
        EXISTS (SELECT 1 FROM subscriptions p WHERE p.subscriber_id = s.id AND ${sql.raw(AWAITING)}) AS awaiting
      FROM subscribers s WHERE s.confirm_token_hash = ${tokenHash} FOR UPDATE
    ), confirmed AS (
      UPDATE subscriptions p SET status = 'confirmed', confirmed_at = ${now}, confirm_ip = ${ip},
        confirm_user_agent = ${userAgent}, unsubscribed_at = NULL, unsubscribe_method = NULL, updated_at = ${now}
      FROM target t WHERE p.subscriber_id = t.id AND t.live AND ${sql.raw(AWAITING)}
      RETURNING p.*
    ), event AS (${subscriptionEvents('subscription.confirmed', 'confirmed', deps.listName, now)}
    ), updated AS (
      -- The subscriber's own columns keep the latest confirmation, as the export without a list shows them.
      UPDATE subscribers s SET confirmed_at = ${now}, confirm_ip = ${ip}, confirm_user_agent = ${userAgent},
        unsubscribed_at = NULL, unsubscribe_method = NULL, updated_at = ${now}
      FROM target t WHERE s.id = t.id AND EXISTS (SELECT 1 FROM confirmed)
      RETURNING s.id, s.mailbox
    ), ledger AS (
      INSERT INTO consent_events (occurred_at, subscriber_id, list_id, type, ip, user_agent, method, details)
      SELECT ${now}, c.subscriber_id, c.list_id, 'confirm', ${ip}, ${userAgent}, 'link',
        jsonb_build_object('consentTextVersion', c.consent_text_version, 'list', l.slug)
      FROM confirmed c JOIN lists l ON l.id = c.list_id
    ), unsuppressed AS (
      -- Confirming is a fresh opt-in by the person: an erasure's suppression entry no longer applies.
      DELETE FROM suppressions WHERE email_hash IN (${sql.join(hashes.map((h) => sql`${h}`), sql`, `)})
        AND EXISTS (SELECT 1 FROM updated)
    ), unthrottled AS (
      -- The person has answered: their mailbox's cooldown ends.
      DELETE FROM mailbox_throttle WHERE mailbox IN (SELECT mailbox FROM updated)
    ), welcome AS (
      INSERT INTO outbox (subscriber_id, list_id, kind, message_id, next_attempt_at, created_at)
      SELECT c.subscriber_id, c.list_id, 'welcome', '<' || gen_random_uuid() || '@' || ${deps.messageIdDomain} || '>',
        ${now}, ${now}
      FROM confirmed c JOIN lists l ON l.id = c.list_id
      WHERE coalesce(l.welcome_email, ${deps.welcomeEmail})
    )
    SELECT t.status, t.live, t.awaiting, (SELECT count(*)::int FROM confirmed) AS changed FROM target t`)
  if (!row) return 'invalid'
  if (Number(row.changed) > 0) return 'confirmed'
  if (row.status === 'confirmed' && !(row.awaiting && !row.live)) return 'already-confirmed'
  return 'expired'
}

export type UnsubscribeMethod = 'link' | 'one-click' | 'preferences' | 'staff'

/**
 * Unsubscribes the subscriber with this public id from one list (`listId`) or from all, at once (before the next
 * send): queued mail for what they left is cancelled, and once they are on no list their outstanding confirmation
 * token stops working. Repeats change nothing. False if there is no such subscriber. `ledger`: the ledger rows'
 * method, when it is not `method` (staff: `staff-api`), and details to add (who).
 */
export async function unsubscribe (deps: LifecycleDeps, publicId: string, method: UnsubscribeMethod,
  evidence: Evidence = {}, listId?: number, ledger: { method?: string, details?: Record<string, unknown> } = {}): Promise<boolean> {
  const now = deps.now().toISOString()
  const list = listId ?? null
  const rows = await deps.database.rows(sql`
    WITH target AS (
      SELECT id, confirm_token_hash FROM subscribers WHERE public_id = ${publicId} FOR UPDATE
    ), left_lists AS (
      UPDATE subscriptions p SET status = 'unsubscribed', unsubscribed_at = ${now}, unsubscribe_method = ${method},
        updated_at = ${now}
      FROM target t WHERE p.subscriber_id = t.id AND (${list}::int IS NULL OR p.list_id = ${list}::int)
        AND ${sql.raw(ACTIVE)}
      RETURNING p.*
    ), event AS (${subscriptionEvents('subscription.unsubscribed', 'left_lists', deps.listName, now)}
    ), staying AS (
      SELECT 1 FROM subscriptions p JOIN target t ON p.subscriber_id = t.id
      WHERE ${list}::int IS NOT NULL AND p.list_id <> ${list}::int AND ${sql.raw(ACTIVE)}
    ), whole AS (
      -- On no list any more: the subscriber has left, and their confirmation link stops working.
      UPDATE subscribers s SET unsubscribed_at = ${now}, unsubscribe_method = ${method},
        confirm_token_hash = NULL, confirm_token_expires_at = NULL, updated_at = ${now}
      FROM target t WHERE s.id = t.id AND NOT EXISTS (SELECT 1 FROM staying)
        AND (EXISTS (SELECT 1 FROM left_lists) OR t.confirm_token_hash IS NOT NULL)
      RETURNING s.id, s.mailbox
    ), ledger AS (
      INSERT INTO consent_events (occurred_at, subscriber_id, list_id, type, ip, user_agent, method, details)
      SELECT ${now}, x.subscriber_id, x.list_id, 'unsubscribe', ${evidence.ip ?? null}, ${evidence.userAgent ?? null},
        ${ledger.method ?? method}, jsonb_build_object('list', l.slug) || ${JSON.stringify(ledger.details ?? {})}::jsonb
      FROM left_lists x JOIN lists l ON l.id = x.list_id
    ), cancelled AS (
      UPDATE outbox SET status = 'cancelled', payload = NULL, last_error = 'unsubscribed before sending'
      WHERE subscriber_id IN (SELECT id FROM target) AND status = 'pending'
        AND (EXISTS (SELECT 1 FROM whole) OR list_id IN (SELECT list_id FROM left_lists))
    ), unthrottled AS (
      -- A person who left and signs up again gets a confirmation mail at once.
      DELETE FROM mailbox_throttle WHERE mailbox IN (SELECT mailbox FROM whole)
    )
    SELECT id FROM target`)
  return rows.length > 0
}

export interface Subscription { listId: number, status: 'pending' | 'confirmed' | 'unsubscribed', awaiting: boolean }

/** A subscriber's subscriptions, for their preference page. Undefined if there is no such subscriber. */
export async function subscriptionsOf (database: Database, publicId: string): Promise<Subscription[] | undefined> {
  const rows = await database.rows<{ id: number, list_id: number | null, status: Subscription['status'] | null, awaiting: boolean | null }>(sql`
    SELECT s.id, p.list_id, p.status, ${sql.raw(AWAITING)} AS awaiting
    FROM subscribers s LEFT JOIN subscriptions p ON p.subscriber_id = s.id
    WHERE s.public_id = ${publicId} ORDER BY p.list_id`)
  if (rows.length === 0) return undefined
  return rows.filter((r) => r.list_id !== null)
    .map((r) => ({ listId: Number(r.list_id), status: r.status!, awaiting: !!r.awaiting }))
}

/**
 * The preference page's change: the subscriber is on exactly the lists `listIds` afterwards. Lists they tick are
 * joined at once, confirmed: the page's link reached them in their own mailbox, as a confirmation link does. Lists
 * they untick are left. Both go to the ledger with the method `preferences`. False if there is no such subscriber.
 */
export async function setSubscriptions (deps: LifecycleDeps, publicId: string, listIds: number[],
  evidence: Evidence): Promise<boolean> {
  if (listIds.length === 0) return await unsubscribe(deps, publicId, 'preferences', evidence)
  const now = deps.now().toISOString()
  const ip = evidence.ip ?? null
  const userAgent = evidence.userAgent ?? null
  const wanted = `{${listIds.join(',')}}`
  const rows = await deps.database.rows(sql`
    WITH target AS (
      SELECT id FROM subscribers WHERE public_id = ${publicId} FOR UPDATE
    ), joined AS (
      INSERT INTO subscriptions AS p (subscriber_id, list_id, status, signed_up_at, signup_ip, signup_user_agent,
        consent_text_version, confirmed_at, confirm_ip, confirm_user_agent, updated_at)
      SELECT t.id, l.id, 'confirmed', ${now}, ${ip}, ${userAgent}, coalesce(l.consent_text_version, ${deps.consentTextVersion}::int),
        ${now}, ${ip}, ${userAgent}, ${now}
      FROM target t JOIN lists l ON l.id = ANY(${wanted}::int[])
      ON CONFLICT (subscriber_id, list_id) DO UPDATE SET status = 'confirmed', signed_up_at = excluded.signed_up_at,
        signup_ip = excluded.signup_ip, signup_user_agent = excluded.signup_user_agent,
        consent_text_version = excluded.consent_text_version, confirmed_at = excluded.confirmed_at,
        confirm_ip = excluded.confirm_ip, confirm_user_agent = excluded.confirm_user_agent,
        unsubscribed_at = NULL, unsubscribe_method = NULL, updated_at = excluded.updated_at
      WHERE p.status <> 'confirmed'
      RETURNING p.*
    ), joined_event AS (${subscriptionEvents('subscription.confirmed', 'joined', deps.listName, now)}
    ), left_lists AS (
      UPDATE subscriptions p SET status = 'unsubscribed', unsubscribed_at = ${now}, unsubscribe_method = 'preferences',
        updated_at = ${now}
      FROM target t WHERE p.subscriber_id = t.id AND NOT (p.list_id = ANY(${wanted}::int[]))
        AND ${sql.raw(ACTIVE)}
      RETURNING p.*
    ), left_event AS (${subscriptionEvents('subscription.unsubscribed', 'left_lists', deps.listName, now)}
    ), ledger AS (
      INSERT INTO consent_events (occurred_at, subscriber_id, list_id, type, ip, user_agent, method, details)
      SELECT ${now}, e.subscriber_id, e.list_id, e.type::consent_event_type, ${ip}, ${userAgent}, 'preferences', e.details
      FROM (
        SELECT j.subscriber_id, j.list_id, x.type, jsonb_build_object('consentTextVersion', j.consent_text_version, 'list', l.slug) AS details
        FROM joined j JOIN lists l ON l.id = j.list_id CROSS JOIN (VALUES ('signup', 1), ('confirm', 2)) AS x(type, n)
        UNION ALL
        SELECT x.subscriber_id, x.list_id, 'unsubscribe', jsonb_build_object('list', l.slug)
        FROM left_lists x JOIN lists l ON l.id = x.list_id
      ) e
    ), cancelled AS (
      UPDATE outbox SET status = 'cancelled', payload = NULL, last_error = 'unsubscribed before sending'
      WHERE subscriber_id IN (SELECT id FROM target) AND status = 'pending' AND list_id IN (SELECT list_id FROM left_lists)
    )
    SELECT id FROM target`)
  return rows.length > 0
}

/** Who a genuine link belongs to, as far as its page needs to know: their address (masked on the page) and state. */
export interface LinkOwner { publicId: string, email: string, status: string }

/**
 * Whose an unsubscribe token is, if the token is genuine: its secret is the one stored for that subscriber (compared
 * in constant time). One lookup by public id; nothing secret is sent to the database.
 */
export async function verifyUnsubscribeToken (database: Database, token: string): Promise<LinkOwner | undefined> {
  const parts = parseUnsubscribeToken(token)
  if (!parts) return undefined
  const [row] = await database.query<{ unsubscribe_secret: string | null, email: string, status: string }>(
    'SELECT unsubscribe_secret, email, status FROM subscribers WHERE public_id = $1', [parts.publicId])
  return row && secretMatches(parts.secret, row.unsubscribe_secret)
    ? { publicId: parts.publicId, email: row.email, status: row.status }
    : undefined
}

/** What a confirmation link stands for now, without changing anything (its GET page): unknown, expired, pending or done. */
export async function confirmationLinkState (deps: Pick<LifecycleDeps, 'database' | 'now'>, token: string):
Promise<{ state: 'pending' | 'expired' | 'confirmed', email: string } | undefined> {
  // As confirm() decides: a link is done when nothing waits for it, whatever lists the subscriber is on.
  const [row] = await deps.database.rows<{ email: string, status: string, live: boolean, awaiting: boolean }>(sql`
    SELECT s.email, s.status, s.confirm_token_expires_at > ${deps.now().toISOString()} AS live,
      EXISTS (SELECT 1 FROM subscriptions p WHERE p.subscriber_id = s.id AND ${sql.raw(AWAITING)}) AS awaiting
    FROM subscribers s WHERE s.confirm_token_hash = ${hashToken(token)}`)
  if (!row) return undefined
  if (row.awaiting) return { state: row.live ? 'pending' : 'expired', email: row.email }
  if (row.status === 'confirmed') return { state: 'confirmed', email: row.email }
  return { state: row.live ? 'pending' : 'expired', email: row.email }
}
