// One subscriber as staff see it (address, name, source, each list with its status, the consent ledger, the mail
// sent and its delivery state), and the changes staff make to one subscriber: resend the confirmation mail and
// unsubscribe. Each change is one statement with its audit row, like the rest of the lifecycle.
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import type { SubscriberStatus } from '../db/schema.js'
import type { LifecycleDeps } from './subscribers.js'
import { AWAITING, newMessageId, unsubscribe } from './subscribers.js'
import { newConfirmToken } from './tokens.js'

const iso = (column: string) => sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`)

export interface ListMembership { list: string, name: string, status: SubscriberStatus, signedUpAt: string, confirmedAt: string | null, unsubscribedAt: string | null }

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

/** `listName`: LIST_NAME, the name of a list without one of its own. */
export async function subscriberDetail (database: Database, publicId: string, listName: string): Promise<SubscriberDetail | undefined> {
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
  const lists = await database.rows<{ slug: string, name: string | null, status: SubscriberStatus, signed_up_at: string, confirmed_at: string | null, unsubscribed_at: string | null }>(sql`
    SELECT l.slug, l.name, p.status::text AS status, ${iso('p.signed_up_at')} AS signed_up_at,
      ${iso('p.confirmed_at')} AS confirmed_at, ${iso('p.unsubscribed_at')} AS unsubscribed_at
    FROM subscriptions p JOIN lists l ON l.id = p.list_id WHERE p.subscriber_id = ${id} ORDER BY l.id`)
  const mail = await database.rows<{ id: number, kind: string, status: string, attempts: number, last_error: string | null, created_at: string, sent_at: string | null }>(sql`
    SELECT id, kind::text AS kind, status::text AS status, attempts, last_error, ${iso('created_at')} AS created_at, ${iso('sent_at')} AS sent_at
    FROM outbox WHERE subscriber_id = ${id} ORDER BY id`)
  return {
    publicId: s.public_id,
    email: s.email,
    name: s.name,
    source: s.source,
    status: s.status,
    lists: lists.map((l) => ({
      list: l.slug, name: l.name ?? listName, status: l.status, signedUpAt: l.signed_up_at, confirmedAt: l.confirmed_at, unsubscribedAt: l.unsubscribed_at
    })),
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
 * per-mailbox throttle does not apply; it is recorded instead. It asks about every list waiting for a confirmation.
 * False if nothing waits for one.
 */
export async function resendConfirmation (deps: LifecycleDeps, publicId: string, who: StaffActor): Promise<boolean> {
  const now = deps.now()
  const { token, hash } = newConfirmToken()
  const expires = new Date(now.getTime() + deps.confirmTtlHours * 3_600_000).toISOString()
  const [row] = await deps.database.rows<{ n: number }>(sql`
    WITH target AS (
      UPDATE subscribers s SET confirm_token_hash = ${hash}, confirm_token_expires_at = ${expires}, updated_at = ${now.toISOString()}
      WHERE s.public_id = ${publicId}
        AND EXISTS (SELECT 1 FROM subscriptions p WHERE p.subscriber_id = s.id AND ${sql.raw(AWAITING)})
      RETURNING s.id
    ), cancelled AS (
      UPDATE outbox SET status = 'cancelled', payload = NULL, last_error = 'replaced by a confirmation resent by staff'
      WHERE subscriber_id IN (SELECT id FROM target) AND kind = 'confirmation' AND status = 'pending'
    ), mail AS (
      INSERT INTO outbox (subscriber_id, kind, message_id, payload, next_attempt_at, created_at)
      SELECT t.id, 'confirmation', ${newMessageId(deps.messageIdDomain)},
        jsonb_build_object('token', ${token}::text, 'lists', (
          SELECT jsonb_agg(p.list_id ORDER BY p.list_id) FROM subscriptions p WHERE p.subscriber_id = t.id AND ${sql.raw(AWAITING)})),
        ${now.toISOString()}, ${now.toISOString()}
      FROM target t
    ), audited AS (
      INSERT INTO staff_audit (occurred_at, actor, action, target, ip)
      SELECT ${now.toISOString()}, ${who.actor}, 'resend-confirmation', ${publicId}, ${who.ip ?? null} FROM target
    )
    SELECT count(*)::int AS n FROM target`)
  return Number(row.n) > 0
}

/**
 * Unsubscribes on a member of staff's word (the person asked by phone or letter): the same effects as the person's
 * own unsubscribe (queued mail cancelled; off every list, the confirmation token void), and ledger rows naming the
 * member of staff. `list` is a list's slug, or undefined for all. False if there is no such subscriber or list.
 */
export async function staffUnsubscribe (deps: LifecycleDeps, publicId: string, list: string | undefined, who: StaffActor): Promise<boolean> {
  const target = list === undefined ? undefined : await deps.lists.bySlug(list)
  if (list !== undefined && !target) return false
  return await unsubscribe(deps, publicId, 'staff', { ip: who.ip }, target?.id, { method: 'staff-api', details: { actor: who.actor } })
}
