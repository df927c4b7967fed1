// The subscriber lifecycle: confirm and unsubscribe (sign-ups are batched in ./signup-writer.ts). Plain functions
// over the database (no HTTP here). Each change is one SQL statement, so the subscriber row and its outbox message
// commit together (transactional outbox), and its consent_events row is a further CTE of the same statement, so
// the ledger cannot miss or invent one.
import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
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
}

export const newMessageId = (domain: string): string => `<${randomUUID()}@${domain}>`

export type ConfirmResult = 'confirmed' | 'already-confirmed' | 'expired' | 'invalid'

export interface Evidence { ip?: string, userAgent?: string }

/** Confirms the sign-up a confirmation token belongs to, and queues the welcome mail. Repeats change nothing. */
export async function confirm (deps: LifecycleDeps, token: string, evidence: Evidence): Promise<ConfirmResult> {
  const now = deps.now().toISOString()
  const tokenHash = hashToken(token)
  // The address first, for its suppression hashes: they are computed here, so no secret goes to the database.
  const [owner] = await deps.database.rows<{ email_normalized: string }>(sql`
    SELECT email_normalized FROM subscribers WHERE confirm_token_hash = ${tokenHash}`)
  if (!owner) return 'invalid'
  const hashes = suppressionHashes(deps.secrets, owner.email_normalized)
  const [row] = await deps.database.rows<{ status: string, live: boolean, changed: number }>(sql`
    WITH target AS (
      SELECT id, status, confirm_token_expires_at > ${now} AS live
      FROM subscribers WHERE confirm_token_hash = ${tokenHash} FOR UPDATE
    ), updated AS (
      UPDATE subscribers s SET status = 'confirmed', confirmed_at = ${now}, confirm_ip = ${evidence.ip ?? null},
        confirm_user_agent = ${evidence.userAgent ?? null}, unsubscribed_at = NULL, unsubscribe_method = NULL,
        updated_at = ${now}
      FROM target t WHERE s.id = t.id AND t.status <> 'confirmed' AND t.live
      RETURNING s.id, s.mailbox, s.consent_text_version
    ), ledger AS (
      INSERT INTO consent_events (occurred_at, subscriber_id, type, ip, user_agent, method, details)
      SELECT ${now}, id, 'confirm', ${evidence.ip ?? null}, ${evidence.userAgent ?? null}, 'link',
        jsonb_build_object('consentTextVersion', consent_text_version)
      FROM updated
    ), unsuppressed AS (
      -- Confirming is a fresh opt-in by the person: an erasure's suppression entry no longer applies.
      DELETE FROM suppressions WHERE email_hash IN (${sql.join(hashes.map((h) => sql`${h}`), sql`, `)})
        AND EXISTS (SELECT 1 FROM updated)
    ), unthrottled AS (
      -- The person has answered: their mailbox's cooldown ends.
      DELETE FROM mailbox_throttle WHERE mailbox IN (SELECT mailbox FROM updated)
    ), welcome AS (
      INSERT INTO outbox (subscriber_id, kind, message_id, next_attempt_at, created_at)
      SELECT id, 'welcome', ${newMessageId(deps.messageIdDomain)}, ${now}, ${now} FROM updated
      WHERE ${deps.welcomeEmail}
    )
    SELECT t.status, t.live, (SELECT count(*)::int FROM updated) AS changed FROM target t`)
  if (!row) return 'invalid'
  if (Number(row.changed) > 0) return 'confirmed'
  if (row.status === 'confirmed') return 'already-confirmed'
  return 'expired'
}

export type UnsubscribeMethod = 'link' | 'one-click'

/**
 * Unsubscribes the subscriber with this public id, at once (before the next send): queued mail to them is cancelled and
 * an outstanding confirmation token stops working. Repeats change nothing. False if there is no such subscriber.
 */
export async function unsubscribe (deps: LifecycleDeps, publicId: string, method: UnsubscribeMethod,
  evidence: Evidence = {}): Promise<boolean> {
  const now = deps.now().toISOString()
  const rows = await deps.database.rows(sql`
    WITH target AS (
      SELECT id, status, confirm_token_hash FROM subscribers WHERE public_id = ${publicId} FOR UPDATE
    ), updated AS (
      UPDATE subscribers s SET status = 'unsubscribed', unsubscribed_at = ${now}, unsubscribe_method = ${method},
        confirm_token_hash = NULL, confirm_token_expires_at = NULL, updated_at = ${now}
      FROM target t WHERE s.id = t.id AND (t.status <> 'unsubscribed' OR t.confirm_token_hash IS NOT NULL)
      RETURNING s.id, s.mailbox
    ), ledger AS (
      INSERT INTO consent_events (occurred_at, subscriber_id, type, ip, user_agent, method)
      SELECT ${now}, id, 'unsubscribe', ${evidence.ip ?? null}, ${evidence.userAgent ?? null}, ${method} FROM updated
    ), cancelled AS (
      UPDATE outbox SET status = 'cancelled', payload = NULL, last_error = 'unsubscribed before sending'
      WHERE subscriber_id IN (SELECT id FROM updated) AND status = 'pending'
    ), unthrottled AS (
      -- A person who left and signs up again gets a confirmation mail at once.
      DELETE FROM mailbox_throttle WHERE mailbox IN (SELECT mailbox FROM updated)
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
  const [row] = await deps.database.rows<{ email: string, status: string, live: boolean }>(sql`
    SELECT email, status, confirm_token_expires_at > ${deps.now().toISOString()} AS live
    FROM subscribers WHERE confirm_token_hash = ${hashToken(token)}`)
  if (!row) return undefined
  if (row.status === 'confirmed') return { state: 'confirmed', email: row.email }
  return { state: row.live ? 'pending' : 'expired', email: row.email }
}
