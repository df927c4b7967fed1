// Sign-ups that arrive together are written together: one statement and one commit for many, each row with its own
// outbox and ledger rows (the jsonb batch is joined back on the address). The sign-up bench measured one statement
// per sign-up as spending most of the database's time on per-statement and per-commit work.
import { isIP } from 'node:net'
import { isDatabaseUnavailable } from '../db/errors.js'
import { wellFormed } from '../text.js'
import { cappedDomain, mailboxOf } from './mailbox.js'
import { newMessageId, type LifecycleDeps, type SignupInput } from './subscribers.js'
import { newConfirmToken } from './tokens.js'

const SIGNUP_SQL = `
  WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(email text, email_normalized text, mailbox text, domain text,
      name text, language text, source text, ip inet, user_agent text, method text, form text, token_hash text, token text,
      message_id text, consent_text_version int)
  ), mailbox_ok AS (
    -- At most one confirmation mail per mailbox per cooldown, and a daily cap, whatever address or list was asked for.
    SELECT i.* FROM input i LEFT JOIN mailbox_throttle m ON m.mailbox = i.mailbox
    WHERE m.mailbox IS NULL OR (m.last_sent_at <= $4::timestamptz AND (m.day <> $5::date OR m.sends < $7::int))
  ), allowed AS (
    -- And at most CONFIRM_DOMAIN_HOURLY_CAP an hour per domain (large providers have none), counting this batch too.
    SELECT o.* FROM (
      SELECT b.*, row_number() OVER (PARTITION BY b.domain ORDER BY b.email_normalized) AS nth FROM mailbox_ok b
    ) o LEFT JOIN domain_throttle d ON d.domain = o.domain AND d.window_start > $10::timestamptz
    WHERE $9::int = 0 OR o.domain IS NULL OR coalesce(d.sends, 0) + o.nth <= $9::int
  ), upsert AS (
    INSERT INTO subscribers AS s (email, email_normalized, mailbox, name, language, source, signed_up_at, signup_ip,
      signup_user_agent, consent_text_version, confirm_token_hash, confirm_token_expires_at, created_at, updated_at)
    -- In address order, so two batches that share addresses lock their rows in the same order (no deadlock).
    SELECT email, email_normalized, mailbox, name, language, source, $2::timestamptz, ip, user_agent,
      coalesce(consent_text_version, $6::int), token_hash,
      $3::timestamptz, $2::timestamptz, $2::timestamptz
    FROM allowed ORDER BY email_normalized
    ON CONFLICT (email_normalized) DO UPDATE SET
      email = excluded.email, name = excluded.name, language = excluded.language, source = excluded.source,
      signed_up_at = excluded.signed_up_at, signup_ip = excluded.signup_ip,
      signup_user_agent = excluded.signup_user_agent, consent_text_version = excluded.consent_text_version,
      confirm_token_hash = excluded.confirm_token_hash, confirm_token_expires_at = excluded.confirm_token_expires_at,
      updated_at = excluded.updated_at
    WHERE s.status <> 'confirmed'
    RETURNING s.id, s.status, s.email_normalized, s.mailbox
  ), ledger AS (
    -- The upsert never changes status, so an unsubscribed address signing up again is a resubscribe.
    INSERT INTO consent_events (occurred_at, subscriber_id, type, ip, user_agent, method, details)
    SELECT $2::timestamptz, u.id,
      CASE WHEN u.status = 'unsubscribed' THEN 'resubscribe' ELSE 'signup' END::consent_event_type,
      i.ip, i.user_agent, i.method,
      jsonb_build_object('consentTextVersion', coalesce(i.consent_text_version, $6::int), 'list', $8::text, 'source', i.source, 'form', i.form)
    FROM upsert u JOIN input i USING (email_normalized)
  ), mail AS (
    INSERT INTO outbox (subscriber_id, kind, message_id, payload, next_attempt_at, created_at)
    SELECT u.id, 'confirmation', i.message_id, jsonb_build_object('token', i.token), $2::timestamptz, $2::timestamptz
    FROM upsert u JOIN input i USING (email_normalized)
  ), mailbox_sent AS (
    INSERT INTO mailbox_throttle AS t (mailbox, last_sent_at, day, sends)
    SELECT mailbox, $2::timestamptz, $5::date, 1 FROM upsert
    ON CONFLICT (mailbox) DO UPDATE SET last_sent_at = excluded.last_sent_at,
      sends = CASE WHEN t.day = excluded.day THEN t.sends + 1 ELSE 1 END, day = excluded.day
  ), domain_sent AS (
    INSERT INTO domain_throttle AS t (domain, window_start, sends)
    SELECT i.domain, $2::timestamptz, count(*) FROM upsert u JOIN input i USING (email_normalized)
    WHERE i.domain IS NOT NULL AND $9::int > 0 GROUP BY i.domain
    ON CONFLICT (domain) DO UPDATE SET
      sends = CASE WHEN t.window_start > $10::timestamptz THEN t.sends + excluded.sends ELSE excluded.sends END,
      window_start = CASE WHEN t.window_start > $10::timestamptz THEN t.window_start ELSE excluded.window_start END
  )
  SELECT string_agg(DISTINCT domain, ',') AS capped FROM mailbox_ok
  WHERE domain IS NOT NULL AND email_normalized NOT IN (SELECT email_normalized FROM allowed)`

/** The client address as PostgreSQL's inet takes it: an IPv6 zone (`fe80::1%eth0`) dropped; anything else unparsable, none. */
export function inetOf (ip: string | undefined): string | null {
  if (!ip) return null
  const address = ip.replace(/%.*$/, '')
  return isIP(address) ? address : null
}

interface Waiting { input: SignupInput, mailbox: string, resolve: () => void, reject: (err: unknown) => void }

/** Most sign-ups in one statement. */
const MAX_BATCH = 100

/** The sign-up queue is full: the service is overloaded; the caller should answer 503 with Retry-After. */
export class SignupQueueFull extends Error {
  readonly statusCode = 503
  readonly code = 'SIGNUP_QUEUE_FULL'
  constructor () { super('Too many sign-ups are waiting to be written. Try again in a few seconds.') }
}

/**
 * Records sign-ups and queues their confirmation mails, unless an address is confirmed already, or its mailbox was
 * sent one within the cooldown or reached today's cap, or its domain this hour's cap (list-bombing). Says nothing
 * about which happened, and every sign-up does the same database work whatever its address's state (no account
 * enumeration, CWE-204). A sign-up's promise settles when its batch has committed.
 *
 * One batch is written at a time: sign-ups that arrive meanwhile wait for the next, so batches grow with the load.
 * The sign-up bench measured one batch at a time against two and three as the fastest and the cheapest in CPU per
 * sign-up, app and database alike. The queue is bounded (SIGNUP_QUEUE_MAX): beyond it a sign-up is refused at once
 * rather than held in memory.
 */
export class SignupWriter {
  private waiting: Waiting[] = []
  private writing = false

  constructor (private readonly deps: LifecycleDeps) {}

  subscribe (input: SignupInput): Promise<void> {
    if (this.waiting.length >= this.deps.signupQueueMax) return Promise.reject(new SignupQueueFull())
    return new Promise((resolve, reject) => {
      this.waiting.push({ input, mailbox: mailboxOf(input.emailNormalized), resolve, reject })
      this.next()
    })
  }

  private next (): void {
    if (this.writing || this.waiting.length === 0) return
    this.writing = true
    const batch = this.take()
    this.writeBatch(batch).finally(() => { this.writing = false; this.next() })
  }

  /**
   * Writes a batch. If it fails for any reason but an unreachable database, its sign-ups are written one by one, so
   * one bad row never fails the others (and the bad one fails alone).
   */
  private async writeBatch (batch: Waiting[]): Promise<void> {
    try {
      await this.write(batch.map((w) => w.input))
      for (const w of batch) w.resolve()
      return
    } catch (err) {
      if (batch.length === 1 || isDatabaseUnavailable(err)) {
        for (const w of batch) w.reject(err)
        return
      }
    }
    for (const w of batch) await this.write([w.input]).then(w.resolve, w.reject)
  }

  /** The next batch, at most one sign-up per mailbox (one statement cannot update a row twice): a repeat waits. */
  private take (): Waiting[] {
    const batch: Waiting[] = []
    const mailboxes = new Set<string>()
    const rest: Waiting[] = []
    for (const w of this.waiting) {
      if (batch.length < MAX_BATCH && !mailboxes.has(w.mailbox)) {
        mailboxes.add(w.mailbox)
        batch.push(w)
      } else rest.push(w)
    }
    this.waiting = rest
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
        mailbox: wellFormed(mailboxOf(input.emailNormalized)),
        domain: deps.confirmDomainHourlyCap > 0 ? wellFormed(cappedDomain(input.emailNormalized)) : null,
        name: wellFormed(input.name),
        language: input.language ?? null,
        source: wellFormed(input.source),
        ip: inetOf(input.ip),
        user_agent: wellFormed(input.userAgent),
        method: input.method ?? 'api',
        form: wellFormed(input.form),
        token_hash: hash,
        token,
        message_id: newMessageId(deps.messageIdDomain),
        // The consent wording of the page's language (the one the visitor read).
        consent_text_version: (input.language && deps.consentTextVersions?.[input.language]) || deps.consentTextVersion
      }
    })
    const [result] = await deps.database.query<{ capped: string | null }>(SIGNUP_SQL, [
      JSON.stringify(rows),
      now.toISOString(),
      new Date(now.getTime() + deps.confirmTtlHours * 3_600_000).toISOString(),
      new Date(now.getTime() - deps.confirmCooldownMinutes * 60_000).toISOString(),
      now.toISOString().slice(0, 10),
      deps.consentTextVersion,
      deps.confirmDailyCap,
      deps.listName,
      deps.confirmDomainHourlyCap,
      new Date(now.getTime() - 3_600_000).toISOString()
    ])
    if (result?.capped) deps.warn?.({ domains: result.capped.split(',') }, 'confirmation mails held back: the domain reached CONFIRM_DOMAIN_HOURLY_CAP this hour')
  }
}
