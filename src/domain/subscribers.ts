// The subscriber lifecycle: subscribe, confirm, unsubscribe. Plain functions over the database (no HTTP here).
// Each is one SQL statement, so the subscriber row and its outbox message commit together (transactional outbox)
// and every sign-up does the same database work whatever the address's state (no account enumeration, CWE-204). Each change also
// appends its consent_events row as a further CTE of the same statement, so the ledger cannot miss or invent one.
import { randomUUID } from 'node:crypto'
import { isIP } from 'node:net'
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import { hashToken, newConfirmToken } from './tokens.js'
import { suppressionHashSql, type HmacPads } from './consent.js'

export interface LifecycleDeps {
  database: Database
  now: () => Date
  /** Domain part of Message-IDs: the sending domain (RFC 5322 §3.6.4). */
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
  /** The page the form was on, as the browser said (Origin header), for the consent record. */
  form?: string
}

export const newMessageId = (domain: string): string => `<${randomUUID()}@${domain}>`

// Sign-ups that arrive while the database is busy are written together: one statement and one commit for many,
// each row with its own outbox and ledger rows (the jsonb batch is joined back on the address). Measured by the
// sign-up bench: one statement per sign-up spent most of the database's time on per-statement and
// per-commit work, and most of the app's on writing to the database socket.
const SIGNUP_SQL = `
  WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(email text, email_normalized text, name text, source text,
      ip inet, user_agent text, method text, form text, token_hash text, token text, message_id text)
  ), upsert AS (
    INSERT INTO subscribers AS s (email, email_normalized, name, source, signed_up_at, signup_ip, signup_user_agent,
      consent_text_version, confirm_token_hash, confirm_token_expires_at, confirm_sent_at, confirm_sends_day,
      confirm_sends_count, created_at, updated_at)
    -- In address order, so two batches that share addresses lock their rows in the same order (no deadlock).
    SELECT email, email_normalized, name, source, $2::timestamptz, ip, user_agent, $6::int, token_hash,
      $3::timestamptz, $2::timestamptz, $5::date, 1, $2::timestamptz, $2::timestamptz
    FROM input ORDER BY email_normalized
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
      AND (s.confirm_sent_at IS NULL OR s.confirm_sent_at <= $4::timestamptz)
      AND (s.confirm_sends_day IS DISTINCT FROM excluded.confirm_sends_day OR s.confirm_sends_count < $7::int)
    RETURNING s.id, s.status, s.email_normalized
  ), ledger AS (
    -- The upsert never changes status, so an unsubscribed address signing up again is a resubscribe.
    INSERT INTO consent_events (occurred_at, subscriber_id, type, ip, user_agent, method, details)
    SELECT $2::timestamptz, u.id,
      CASE WHEN u.status = 'unsubscribed' THEN 'resubscribe' ELSE 'signup' END::consent_event_type,
      i.ip, i.user_agent, i.method,
      jsonb_build_object('consentTextVersion', $6::int, 'list', $8::text, 'source', i.source, 'form', i.form)
    FROM upsert u JOIN input i USING (email_normalized)
  )
  INSERT INTO outbox (subscriber_id, kind, message_id, payload, next_attempt_at, created_at)
  SELECT u.id, 'confirmation', i.message_id, jsonb_build_object('token', i.token), $2::timestamptz, $2::timestamptz
  FROM upsert u JOIN input i USING (email_normalized)`

/**
 * A UTF-16 surrogate without its pair: not a character, so it cannot be stored as text. JSON can carry one
 * ("\ud800"), and PostgreSQL refuses it inside a jsonb value, which would fail a whole batch of sign-ups.
 */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
/** The text with any lone surrogate replaced by U+FFFD, as encoding it to UTF-8 would. */
const wellFormed = (v: string | undefined): string | null => v === undefined ? null : v.replace(LONE_SURROGATE, '\ufffd')

interface Waiting { input: SignupInput, resolve: () => void, reject: (err: unknown) => void }

/** Most sign-ups in one statement. */
const MAX_BATCH = 100

/**
 * Records sign-ups and queues their confirmation mails, unless an address is confirmed already, or was sent one
 * within the cooldown, or reached today's cap (list-bombing). Says nothing about which happened,
 * and every sign-up does the same database work whatever its address's state (CWE-204). A sign-up's
 * promise settles when its batch has committed (or failed: then every sign-up in it fails, and none is stored).
 *
 * One batch is written at a time: sign-ups that arrive meanwhile wait for the next, so batches grow with the load.
 * The sign-up bench measured one batch at a time against two and three as the fastest and the cheapest in CPU per
 * sign-up, app and database alike.
 */
export class SignupWriter {
  private readonly waiting: Waiting[] = []
  private writing = false

  constructor (private readonly deps: LifecycleDeps) {}

  subscribe (input: SignupInput): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ input, resolve, reject })
      this.next()
    })
  }

  private next (): void {
    if (this.writing || this.waiting.length === 0) return
    this.writing = true
    const batch = this.take()
    this.write(batch.map((w) => w.input)).then(
      () => { for (const w of batch) w.resolve() },
      (err: unknown) => { for (const w of batch) w.reject(err) }
    ).finally(() => { this.writing = false; this.next() })
  }

  /** The next batch, at most one sign-up per address (one statement cannot upsert a row twice): a repeat waits. */
  private take (): Waiting[] {
    const batch: Waiting[] = []
    const addresses = new Set<string>()
    const rest: Waiting[] = []
    for (const w of this.waiting) {
      if (batch.length < MAX_BATCH && !addresses.has(w.input.emailNormalized)) {
        addresses.add(w.input.emailNormalized)
        batch.push(w)
      } else rest.push(w)
    }
    this.waiting.splice(0, this.waiting.length, ...rest)
    return batch
  }

  private async write (inputs: SignupInput[]): Promise<void> {
    const { deps } = this
    const now = deps.now()
    const rows = inputs.map((input) => {
      const { token, hash } = newConfirmToken()
      return {
        // Validation refuses lone surrogates in what a visitor types; headers cannot carry them. Replaced here
        // all the same, because one such value would fail every sign-up in its batch.
        email: wellFormed(input.email),
        email_normalized: wellFormed(input.emailNormalized),
        name: wellFormed(input.name),
        source: wellFormed(input.source),
        // One unparsable address must not fail the whole batch's inet cast.
        ip: input.ip && isIP(input.ip) ? input.ip : null,
        user_agent: wellFormed(input.userAgent),
        method: input.method ?? 'api',
        form: wellFormed(input.form),
        token_hash: hash,
        token,
        message_id: newMessageId(deps.messageIdDomain)
      }
    })
    await deps.database.query(SIGNUP_SQL, [
      JSON.stringify(rows),
      now.toISOString(),
      new Date(now.getTime() + deps.confirmTtlHours * 3_600_000).toISOString(),
      new Date(now.getTime() - deps.confirmCooldownMinutes * 60_000).toISOString(),
      now.toISOString().slice(0, 10),
      deps.consentTextVersion,
      deps.confirmDailyCap,
      deps.listName
    ])
  }
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
      -- Confirming is a fresh opt-in by the person: an erasure's suppression entry no longer applies.
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
