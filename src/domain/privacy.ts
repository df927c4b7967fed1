// Data-subject rights for staff and subscribers: subject access (GDPR Art. 15) and erasure (Art. 17).
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import { erasedEvents } from './events.js'
import { isoSql } from '../db/sql.js'
import type { Secrets } from './secrets.js'
import { isSuppressed, suppressionHash } from './suppression.js'
import type { Actor } from './ledger.js'

export interface PrivacyDeps {
  database: Database
  now: () => Date
  secrets: Secrets
}

export interface SubjectAccess {
  email: string
  /** Everything the subscribers row holds, except the confirmation token's hash (a secret, not data about them). */
  subscriber: Record<string, unknown> | null
  /** One per list the address was ever on: its status and consent evidence. */
  subscriptions: Record<string, unknown>[]
  consentTexts: { version: number, text: string, sha256: string, createdAt: string }[]
  events: Record<string, unknown>[]
  outbox: Record<string, unknown>[]
  suppressed: boolean
}

/**
 * Everything held about one normalised address (Art. 15), as plain JSON. The lookup itself is recorded in the
 * ledger in the same statement, whether or not anything is held.
 */
export async function subjectAccess (deps: PrivacyDeps, emailNormalized: string, who: Actor): Promise<SubjectAccess> {
  const now = deps.now().toISOString()
  const [row] = await deps.database.rows<{ id: number | null, subscriber: Record<string, unknown> | null }>(sql`
    WITH target AS (SELECT * FROM subscribers WHERE email_normalized = ${emailNormalized}), logged AS (
      INSERT INTO consent_events (occurred_at, subscriber_id, type, ip, user_agent, method, details)
      SELECT ${now}, (SELECT id FROM target), 'access', ${who.ip ?? null}, ${who.userAgent ?? null}, ${who.method},
        jsonb_build_object('actor', ${who.actor}::text, 'found', EXISTS (SELECT 1 FROM target))
    )
    SELECT (SELECT id FROM target) AS id, (SELECT to_jsonb(t) - 'confirm_token_hash'
      || jsonb_build_object('has_confirm_token', t.confirm_token_hash IS NOT NULL,
        'signup_ip', host(t.signup_ip), 'confirm_ip', host(t.confirm_ip)) FROM target t) AS subscriber`)
  const id = row.id === null ? null : Number(row.id)
  const subscriptions = id === null
    ? []
    : await deps.database.rows<Record<string, unknown>>(sql`
    SELECT l.slug AS list, l.name AS list_name, p.status, ${isoSql('p.signed_up_at')} AS signed_up_at,
      host(p.signup_ip) AS signup_ip, p.signup_user_agent, p.consent_text_version,
      ${isoSql('p.confirmed_at')} AS confirmed_at, host(p.confirm_ip) AS confirm_ip, p.confirm_user_agent,
      ${isoSql('p.unsubscribed_at')} AS unsubscribed_at, p.unsubscribe_method
    FROM subscriptions p JOIN lists l ON l.id = p.list_id WHERE p.subscriber_id = ${id} ORDER BY l.id`)
  const events = id === null
    ? []
    : await deps.database.rows<Record<string, unknown>>(sql`
    SELECT ${isoSql('e.occurred_at')} AS occurred_at, e.type, l.slug AS list, host(e.ip) AS ip, e.user_agent, e.method, e.details
    FROM consent_events e LEFT JOIN lists l ON l.id = e.list_id WHERE e.subscriber_id = ${id} ORDER BY e.id`)
  const outbox = id === null
    ? []
    : await deps.database.rows<Record<string, unknown>>(sql`
    SELECT kind, status, message_id, attempts, last_error, ${isoSql('created_at')} AS created_at,
      ${isoSql('sent_at')} AS sent_at
    FROM outbox WHERE subscriber_id = ${id} ORDER BY id`)
  const versions = new Set<number>()
  if (row.subscriber?.consent_text_version != null) versions.add(Number(row.subscriber.consent_text_version))
  for (const p of subscriptions) if (p.consent_text_version != null) versions.add(Number(p.consent_text_version))
  for (const e of events) {
    const v = (e.details as { consentTextVersion?: number } | null)?.consentTextVersion
    if (v != null) versions.add(Number(v))
  }
  const consentTexts = versions.size === 0
    ? []
    : (await deps.database.rows<{ version: number, text: string, sha256: string, created_at: string }>(sql`
    SELECT version, text, sha256, ${isoSql('created_at')} AS created_at FROM consent_texts
    WHERE version IN (${sql.join([...versions].map((v) => sql`${v}`), sql`, `)}) ORDER BY version`))
        .map((c) => ({ version: Number(c.version), text: c.text, sha256: c.sha256, createdAt: c.created_at }))
  const suppressed = await isSuppressed(deps.database, deps.secrets, emailNormalized)
  return { email: emailNormalized, subscriber: row.subscriber, subscriptions, consentTexts, events, outbox, suppressed }
}

export type ErasureTarget = { emailNormalized: string } | { publicId: string }

/**
 * Erases one subscriber (Art. 17) in one statement: the subscribers row and its queued mail are deleted, their
 * ledger events keep only time, type, method and non-personal details (no subscriber, IP or user agent), the
 * address survives only as a suppression hash (ICO: suppress rather than delete), and an erasure event records who
 * asked. Staff erasing an address that is not held still suppresses it (an objection, ICO). Returns whether a
 * subscriber was deleted.
 */
export async function erase (deps: PrivacyDeps, target: ErasureTarget, who: Actor): Promise<boolean> {
  const now = deps.now().toISOString()
  // The address first: its suppression hash is computed here, so no secret goes to the database.
  const emailNormalized = 'emailNormalized' in target ? target.emailNormalized : await addressOf(deps, target.publicId)
  if (emailNormalized === undefined) return false
  const { hash, keyId } = suppressionHash(deps.secrets.current, emailNormalized)
  // A subscriber erasing themselves leaves no IP or user agent behind; staff requests are audited with theirs.
  const self = who.method === 'self-service'
  const [row] = await deps.database.rows<{ erased: number }>(sql`
    WITH target AS (
      SELECT id FROM subscribers WHERE email_normalized = ${emailNormalized} FOR UPDATE
    ), anonymised AS (
      UPDATE consent_events SET subscriber_id = NULL, ip = NULL, user_agent = NULL
      WHERE subscriber_id IN (SELECT id FROM target) RETURNING id
    ), gone AS (
      DELETE FROM subscribers WHERE id IN (SELECT id FROM target) RETURNING id, public_id
    ), event AS (${erasedEvents('gone', now)}
    ), suppressed AS (
      INSERT INTO suppressions (email_hash, key_id, reason, created_at)
      VALUES (${hash}, ${keyId}, 'erasure', ${now})
      ON CONFLICT (email_hash) DO NOTHING
    ), logged AS (
      INSERT INTO consent_events (occurred_at, type, ip, user_agent, method, details)
      VALUES (${now}, 'erasure', ${self ? null : who.ip ?? null}, ${self ? null : who.userAgent ?? null}, ${who.method},
        jsonb_build_object('actor', ${who.actor}::text, 'found', EXISTS (SELECT 1 FROM target),
          'anonymisedEvents', (SELECT count(*) FROM anonymised)))
    )
    SELECT (SELECT count(*) FROM gone)::int AS erased`)
  return Number(row.erased) > 0
}

async function addressOf (deps: PrivacyDeps, publicId: string): Promise<string | undefined> {
  const [row] = await deps.database.rows<{ email_normalized: string }>(sql`
    SELECT email_normalized FROM subscribers WHERE public_id = ${publicId}`)
  return row?.email_normalized
}
