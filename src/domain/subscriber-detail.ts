// One subscriber as staff see it (address, name, source, each list with its status, the consent ledger, the mail
// sent and its delivery state), and the changes staff make to one subscriber: resend the confirmation mail and
// unsubscribe. Each change is one statement with its audit row, like the rest of the lifecycle.
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import type { SubscriberStatus } from '../db/schema.js'
import { DEFAULT_LIST } from './search.js'
import type { LifecycleDeps } from './subscribers.js'
import { newMessageId } from './subscribers.js'
import { newConfirmToken } from './tokens.js'

const iso = (column: string) => sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`)

export interface ListMembership { list: string, status: SubscriberStatus, signedUpAt: string, confirmedAt: string | null, unsubscribedAt: string | null }

export interface LedgerEntry {
  at: string
  type: string
  method: string | null
  ip: string | null
  userAgent: string | null
  /** The consent wording shown, for sign-ups (the exact text stored with the event's version). */
  consentText: string | null
  consentTextVersion: number | null
  details: Record<string, unknown>
}

export interface MailEntry { id: number, kind: string, status: string, attempts: number, lastError: string | null, createdAt: string, sentAt: string | null }

export interface SubscriberDetail {
  publicId: string
  email: string
  name: string | null
  source: string | null
  status: SubscriberStatus
  lists: ListMembership[]
  ledger: LedgerEntry[]
  mail: MailEntry[]
}

export async function subscriberDetail (database: Database, publicId: string): Promise<SubscriberDetail | undefined> {
  const [s] = await database.rows<{ id: number, public_id: string, email: string, name: string | null, source: string | null, status: SubscriberStatus, signed_up_at: string, confirmed_at: string | null, unsubscribed_at: string | null }>(sql`
    SELECT id, public_id, email, name, source, status::text AS status, ${iso('signed_up_at')} AS signed_up_at,
      ${iso('confirmed_at')} AS confirmed_at, ${iso('unsubscribed_at')} AS unsubscribed_at
    FROM subscribers WHERE public_id = ${publicId}`)
  if (!s) return undefined
  const id = Number(s.id)
  const ledger = await database.rows<{ at: string, type: string, method: string | null, ip: string | null, user_agent: string | null, text: string | null, version: number | null, details: Record<string, unknown> }>(sql`
    SELECT ${iso('e.occurred_at')} AS at, e.type::text AS type, e.method, host(e.ip) AS ip, e.user_agent, c.text, c.version, e.details
    FROM consent_events e LEFT JOIN consent_texts c ON c.version = (e.details->>'consentTextVersion')::int
    WHERE e.subscriber_id = ${id} ORDER BY e.id`)
  const mail = await database.rows<{ id: number, kind: string, status: string, attempts: number, last_error: string | null, created_at: string, sent_at: string | null }>(sql`
    SELECT id, kind::text AS kind, status::text AS status, attempts, last_error, ${iso('created_at')} AS created_at, ${iso('sent_at')} AS sent_at
    FROM outbox WHERE subscriber_id = ${id} ORDER BY id`)
  return {
    publicId: s.public_id,
    email: s.email,
    name: s.name,
    source: s.source,
    status: s.status,
    // One list until per-list subscriptions exist: the subscriber's own status is their status on it.
    lists: [{ list: DEFAULT_LIST, status: s.status, signedUpAt: s.signed_up_at, confirmedAt: s.confirmed_at, unsubscribedAt: s.unsubscribed_at }],
    ledger: ledger.map((e) => ({
      at: e.at, type: e.type, method: e.method, ip: e.ip, userAgent: e.user_agent, consentText: e.text, consentTextVersion: e.version === null ? null : Number(e.version), details: e.details
    })),
    mail: mail.map((m) => ({ id: Number(m.id), kind: m.kind, status: m.status, attempts: Number(m.attempts), lastError: m.last_error, createdAt: m.created_at, sentAt: m.sent_at }))
  }
}

export interface StaffActor { actor: string, ip?: string }

/**
 * A new confirmation mail for a pending subscriber: a fresh token (the old link stops working), the confirmation
 * queued in the outbox, older unsent confirmations cancelled, and an audit row. Staff asked for it, so the
 * per-mailbox throttle does not apply; it is recorded instead. False if the subscriber is not pending.
 */
export async function resendConfirmation (deps: LifecycleDeps, publicId: string, who: StaffActor): Promise<boolean> {
  const now = deps.now()
  const { token, hash } = newConfirmToken()
  const expires = new Date(now.getTime() + deps.confirmTtlHours * 3_600_000).toISOString()
  const [row] = await deps.database.rows<{ n: number }>(sql`
    WITH target AS (
      UPDATE subscribers SET confirm_token_hash = ${hash}, confirm_token_expires_at = ${expires}, updated_at = ${now.toISOString()}
      WHERE public_id = ${publicId} AND status = 'pending' RETURNING id
    ), cancelled AS (
      UPDATE outbox SET status = 'cancelled', payload = NULL, last_error = 'replaced by a confirmation resent by staff'
      WHERE subscriber_id IN (SELECT id FROM target) AND kind = 'confirmation' AND status = 'pending'
    ), mail AS (
      INSERT INTO outbox (subscriber_id, kind, message_id, payload, next_attempt_at, created_at)
      SELECT id, 'confirmation', ${newMessageId(deps.messageIdDomain)}, jsonb_build_object('token', ${token}::text), ${now.toISOString()}, ${now.toISOString()}
      FROM target
    ), audited AS (
      INSERT INTO staff_audit (occurred_at, actor, action, target, ip)
      SELECT ${now.toISOString()}, ${who.actor}, 'resend-confirmation', ${publicId}, ${who.ip ?? null} FROM target
    )
    SELECT count(*)::int AS n FROM target`)
  return Number(row.n) > 0
}

/**
 * Unsubscribes on a member of staff's word (the person asked by phone or letter): the same effects as the person's
 * own unsubscribe (queued mail cancelled, confirmation token void), a consent-ledger row naming the member of staff.
 * `list` is one list or undefined for all; with one list today both are the same. False if there is no such subscriber.
 */
export async function staffUnsubscribe (deps: LifecycleDeps, publicId: string, list: string | undefined, who: StaffActor): Promise<boolean> {
  const now = deps.now().toISOString()
  if (list !== undefined && list !== DEFAULT_LIST) return false
  const rows = await deps.database.rows(sql`
    WITH target AS (
      SELECT id, status, confirm_token_hash FROM subscribers WHERE public_id = ${publicId} FOR UPDATE
    ), updated AS (
      UPDATE subscribers s SET status = 'unsubscribed', unsubscribed_at = ${now}, unsubscribe_method = 'staff',
        confirm_token_hash = NULL, confirm_token_expires_at = NULL, updated_at = ${now}
      FROM target t WHERE s.id = t.id AND (t.status <> 'unsubscribed' OR t.confirm_token_hash IS NOT NULL)
      RETURNING s.id, s.mailbox
    ), ledger AS (
      INSERT INTO consent_events (occurred_at, subscriber_id, type, ip, method, details)
      SELECT ${now}, id, 'unsubscribe', ${who.ip ?? null}, 'staff-api', jsonb_build_object('actor', ${who.actor}::text, 'list', ${list ?? 'all'}::text) FROM updated
    ), cancelled AS (
      UPDATE outbox SET status = 'cancelled', payload = NULL, last_error = 'unsubscribed before sending'
      WHERE subscriber_id IN (SELECT id FROM updated) AND status = 'pending'
    ), unthrottled AS (
      DELETE FROM mailbox_throttle WHERE mailbox IN (SELECT mailbox FROM updated)
    )
    SELECT id FROM target`)
  return rows.length > 0
}
