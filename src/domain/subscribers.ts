// The subscriber lifecycle: subscribe, confirm, unsubscribe. Plain functions over the database (no HTTP here).
// Each is one SQL statement, so the subscriber row and its outbox message commit together (STANDARDS F31)
// and every sign-up does the same database work whatever the address's state (STANDARDS C16). Each change also
// appends its consent_events row as a further CTE of the same statement, so the ledger cannot miss or invent one.
import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import { hashToken, newConfirmToken } from './tokens.js'
import { suppressionHashSql, type HmacPads } from './consent.js'

export interface LifecycleDeps {
  database: Database
  now: () => Date
  /** Domain part of Message-IDs: the sending domain (STANDARDS A7). */
  messageIdDomain: string
  confirmTtlHours: number
  confirmCooldownMinutes: number
  confirmDailyCap: number
  welcomeEmail: boolean
  listName: string
  /** consent_texts.version of the configured CONSENT_TEXT (registered at start, see consent.ts). */
  consentTextVersion: number
  /** HMAC key pads of TOKEN_SECRET, for the suppression hash computed in SQL. */
  suppressionPads: HmacPads
}

export interface SignupInput {
  email: string
  emailNormalized: string
  name?: string
  source?: string
  ip?: string
  userAgent?: string
  /** How the sign-up arrived: the hosted/embedded HTML form or the JSON API. */
  method?: 'form' | 'api'
  /** The page the form was on, as the browser said (Origin header), for the consent record (STANDARDS E27). */
  form?: string
}

export const newMessageId = (domain: string): string => `<${randomUUID()}@${domain}>`

/**
 * Records a sign-up and queues a confirmation mail, unless the address is confirmed already, or was sent one
 * within the cooldown, or reached today's cap (list-bombing, STANDARDS C17). Says nothing about which happened.
 */
export async function subscribe (deps: LifecycleDeps, input: SignupInput): Promise<void> {
  const now = deps.now()
  const { token, hash } = newConfirmToken()
  const expires = new Date(now.getTime() + deps.confirmTtlHours * 3_600_000)
  const cooldownEnd = new Date(now.getTime() - deps.confirmCooldownMinutes * 60_000)
  const today = now.toISOString().slice(0, 10)
  const details = { consentTextVersion: deps.consentTextVersion, list: deps.listName, source: input.source ?? null, form: input.form ?? null }
  await deps.database.rows(sql`
    WITH upsert AS (
      INSERT INTO subscribers AS s (email, email_normalized, name, source, signed_up_at, signup_ip, signup_user_agent,
        consent_text_version, confirm_token_hash, confirm_token_expires_at, confirm_sent_at, confirm_sends_day,
        confirm_sends_count, created_at, updated_at)
      VALUES (${input.email}, ${input.emailNormalized}, ${input.name ?? null}, ${input.source ?? null},
        ${now.toISOString()}, ${input.ip ?? null}, ${input.userAgent ?? null}, ${deps.consentTextVersion}, ${hash},
        ${expires.toISOString()}, ${now.toISOString()}, ${today}, 1, ${now.toISOString()}, ${now.toISOString()})
      ON CONFLICT (email_normalized) DO UPDATE SET
        email = excluded.email, name = excluded.name, source = excluded.source,
        signed_up_at = excluded.signed_up_at, signup_ip = excluded.signup_ip,
        signup_user_agent = excluded.signup_user_agent, consent_text_version = excluded.consent_text_version,
        confirm_token_hash = excluded.confirm_token_hash, confirm_token_expires_at = excluded.confirm_token_expires_at,
        confirm_sent_at = excluded.confirm_sent_at,
        confirm_sends_count = CASE WHEN s.confirm_sends_day = excluded.confirm_sends_day
          THEN s.confirm_sends_count + 1 ELSE 1 END,
        confirm_sends_day = excluded.confirm_sends_day,
        updated_at = excluded.updated_at
      WHERE s.status <> 'confirmed'
        AND (s.confirm_sent_at IS NULL OR s.confirm_sent_at <= ${cooldownEnd.toISOString()})
        AND (s.confirm_sends_day IS DISTINCT FROM excluded.confirm_sends_day
          OR s.confirm_sends_count < ${deps.confirmDailyCap})
      RETURNING s.id, s.status
    ), ledger AS (
      -- The upsert never changes status, so an unsubscribed address signing up again is a resubscribe.
      INSERT INTO consent_events (occurred_at, subscriber_id, type, ip, user_agent, method, details)
      SELECT ${now.toISOString()}, id,
        CASE WHEN status = 'unsubscribed' THEN 'resubscribe' ELSE 'signup' END::consent_event_type,
        ${input.ip ?? null}, ${input.userAgent ?? null}, ${input.method ?? 'api'}, ${JSON.stringify(details)}::jsonb
      FROM upsert
    )
    INSERT INTO outbox (subscriber_id, kind, message_id, payload, next_attempt_at, created_at)
    SELECT id, 'confirmation', ${newMessageId(deps.messageIdDomain)}, ${JSON.stringify({ token })}::jsonb,
      ${now.toISOString()}, ${now.toISOString()}
    FROM upsert`)
}

export type ConfirmResult = 'confirmed' | 'already-confirmed' | 'expired' | 'invalid'

export interface Evidence { ip?: string, userAgent?: string }

/** Confirms the sign-up a confirmation token belongs to, and queues the welcome mail. Repeats change nothing. */
export async function confirm (deps: LifecycleDeps, token: string, evidence: Evidence): Promise<ConfirmResult> {
  const now = deps.now().toISOString()
  const [row] = await deps.database.rows<{ status: string, live: boolean, changed: number }>(sql`
    WITH target AS (
      SELECT id, status, confirm_token_expires_at > ${now} AS live
      FROM subscribers WHERE confirm_token_hash = ${hashToken(token)} FOR UPDATE
    ), updated AS (
      UPDATE subscribers s SET status = 'confirmed', confirmed_at = ${now}, confirm_ip = ${evidence.ip ?? null},
        confirm_user_agent = ${evidence.userAgent ?? null}, unsubscribed_at = NULL, unsubscribe_method = NULL,
        confirm_sent_at = NULL, confirm_sends_count = 0, updated_at = ${now}
      FROM target t WHERE s.id = t.id AND t.status <> 'confirmed' AND t.live
      RETURNING s.id, s.email_normalized, s.consent_text_version
    ), ledger AS (
      INSERT INTO consent_events (occurred_at, subscriber_id, type, ip, user_agent, method, details)
      SELECT ${now}, id, 'confirm', ${evidence.ip ?? null}, ${evidence.userAgent ?? null}, 'link',
        jsonb_build_object('consentTextVersion', consent_text_version)
      FROM updated
    ), unsuppressed AS (
      -- Confirming is a fresh opt-in by the person: an erasure's suppression entry no longer applies (E29).
      DELETE FROM suppressions WHERE email_hash IN (
        SELECT ${suppressionHashSql(deps.suppressionPads, sql.raw('email_normalized'))} FROM updated)
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
 * Unsubscribes the subscriber with this public id, at once (STANDARDS A5): queued mail to them is cancelled and
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
        confirm_token_hash = NULL, confirm_token_expires_at = NULL, confirm_sent_at = NULL, confirm_sends_count = 0,
        updated_at = ${now}
      FROM target t WHERE s.id = t.id AND (t.status <> 'unsubscribed' OR t.confirm_token_hash IS NOT NULL)
      RETURNING s.id
    ), ledger AS (
      INSERT INTO consent_events (occurred_at, subscriber_id, type, ip, user_agent, method)
      SELECT ${now}, id, 'unsubscribe', ${evidence.ip ?? null}, ${evidence.userAgent ?? null}, ${method} FROM updated
    ), cancelled AS (
      UPDATE outbox SET status = 'cancelled', payload = NULL, last_error = 'unsubscribed before sending'
      WHERE subscriber_id IN (SELECT id FROM updated) AND status = 'pending'
    )
    SELECT id FROM target`)
  return rows.length > 0
}
