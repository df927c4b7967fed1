// Sign-ups that arrive together are written together: one statement and one commit for many, each row with its own
// outbox and ledger rows (the jsonb batch is joined back on the address). The sign-up bench measured one statement
// per sign-up as spending most of the database's time on per-statement and per-commit work.
import { isIP } from 'node:net'
import { isDatabaseUnavailable } from '../db/errors.js'
import { wellFormed } from '../text.js'
import { subscriptionEventsText } from './events.js'
import { cappedDomain, mailboxOf } from './mailbox.js'
import { newMessageId, type LifecycleDeps, type SignupInput } from './subscribers.js'
import { newConfirmToken } from './tokens.js'

const SIGNUP_SQL = `
  WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(email text, email_normalized text, mailbox text, domain text,
      name text, language text, source text, ip inet, user_agent text, method text, form text, token_hash text,
      token text, message_id text, lists text, consent_text_version int)
  ), mailbox_ok AS (
    -- At most one confirmation mail per mailbox per cooldown, and a daily cap, whatever address or list was asked for.
    -- The throttle tables are probed by key per sign-up (a subquery, not a join): planned as a join, against the
    -- batch's estimated 100 rows, they were read whole for every batch until they held some 50,000 rows.
    SELECT i.* FROM input i
    WHERE coalesce((SELECT m.last_sent_at <= $4::timestamptz AND (m.day <> $5::date OR m.sends < $7::int)
      FROM mailbox_throttle m WHERE m.mailbox = i.mailbox), true)
  ), allowed AS (
    -- And at most CONFIRM_DOMAIN_HOURLY_CAP an hour per domain (large providers have none), counting this batch too.
    SELECT o.* FROM (
      SELECT b.*, row_number() OVER (PARTITION BY b.domain ORDER BY b.email_normalized) AS nth FROM mailbox_ok b
    ) o
    WHERE $8::int = 0 OR o.domain IS NULL OR coalesce((SELECT d.sends FROM domain_throttle d
      WHERE d.domain = o.domain AND d.window_start > $9::timestamptz), 0) + o.nth <= $8::int
  ), wanted AS (
    -- An address already confirmed on every list it asks for is left as it is, and gets no mail.
    SELECT a.* FROM allowed a
    WHERE EXISTS (
      SELECT 1 FROM unnest(string_to_array(a.lists, ',')::int[]) AS l(id)
      WHERE NOT EXISTS (
        SELECT 1 FROM subscribers s JOIN subscriptions p ON p.subscriber_id = s.id
        WHERE s.email_normalized = a.email_normalized AND p.list_id = l.id AND p.status = 'confirmed'))
  ), upsert AS (
    INSERT INTO subscribers AS s (email, email_normalized, mailbox, name, language, source, signed_up_at, signup_ip,
      signup_user_agent, consent_text_version, confirm_token_hash, confirm_token_expires_at, created_at, updated_at,
      memberships)
    -- In address order, so two batches that share addresses lock their rows in the same order (no deadlock).
    SELECT email, email_normalized, mailbox, name, language, source, $2::timestamptz, ip, user_agent,
      coalesce(consent_text_version, $6::int), token_hash,
      $3::timestamptz, $2::timestamptz, $2::timestamptz,
      -- A new subscriber's membership keys as the subscriptions trigger would set them (pending on each list asked
      -- for), so that trigger finds nothing to change rather than updating every new row again.
      ARRAY(SELECT k FROM unnest(string_to_array(lists, ',')::int[]) l, unnest(subscription_keys(l, 'pending')) k ORDER BY k)
    FROM wanted ORDER BY email_normalized
    ON CONFLICT (email_normalized) DO UPDATE SET
      email = excluded.email, name = excluded.name, language = excluded.language, source = excluded.source,
      signed_up_at = excluded.signed_up_at, signup_ip = excluded.signup_ip,
      signup_user_agent = excluded.signup_user_agent, consent_text_version = excluded.consent_text_version,
      confirm_token_hash = excluded.confirm_token_hash, confirm_token_expires_at = excluded.confirm_token_expires_at,
      updated_at = excluded.updated_at
    RETURNING s.*
  ), subscribed AS (
    -- A subscription per list asked for, with its own consent evidence. One confirmed already stays as it is; one
    -- left before keeps its status (nothing is sent to it) until the new confirmation.
    INSERT INTO subscriptions AS p (subscriber_id, list_id, status, signed_up_at, signup_ip, signup_user_agent,
      consent_text_version, updated_at)
    SELECT u.id, l.id, 'pending', $2::timestamptz, i.ip, i.user_agent, coalesce(l.consent_text_version, i.consent_text_version, $6::int),
      $2::timestamptz
    FROM upsert u JOIN input i USING (email_normalized)
    JOIN lists l ON l.id = ANY(string_to_array(i.lists, ',')::int[])
    ORDER BY u.id, l.id
    ON CONFLICT (subscriber_id, list_id) DO UPDATE SET
      signed_up_at = excluded.signed_up_at, signup_ip = excluded.signup_ip,
      signup_user_agent = excluded.signup_user_agent, consent_text_version = excluded.consent_text_version,
      updated_at = excluded.updated_at
    WHERE p.status <> 'confirmed'
    RETURNING p.*
  ), event AS (${subscriptionEventsText('subscription.pending', 'subscribed', 'upsert', { at: '$2::timestamptz', listName: '$10::text' })}
  ), ledger AS (
    -- The status is never changed here, so a subscription left before and asked for again is a resubscribe.
    INSERT INTO consent_events (occurred_at, subscriber_id, list_id, type, ip, user_agent, method, details)
    SELECT $2::timestamptz, p.subscriber_id, p.list_id,
      CASE WHEN p.status = 'unsubscribed' THEN 'resubscribe' ELSE 'signup' END::consent_event_type,
      i.ip, i.user_agent, i.method,
      jsonb_build_object('consentTextVersion', p.consent_text_version, 'list', l.slug, 'source', i.source, 'form', i.form)
    FROM subscribed p JOIN upsert u ON u.id = p.subscriber_id JOIN input i USING (email_normalized)
    JOIN lists l ON l.id = p.list_id
  ), mail AS (
    -- One confirmation mail for all the lists asked for.
    INSERT INTO outbox (subscriber_id, kind, message_id, payload, next_attempt_at, created_at)
    SELECT u.id, 'confirmation', i.message_id,
      jsonb_build_object('token', i.token, 'lists', to_jsonb(string_to_array(i.lists, ',')::int[])),
      $2::timestamptz, $2::timestamptz
    FROM upsert u JOIN input i USING (email_normalized)
  ), mailbox_sent AS (
    INSERT INTO mailbox_throttle AS t (mailbox, last_sent_at, day, sends)
    SELECT mailbox, $2::timestamptz, $5::date, 1 FROM upsert
    ON CONFLICT (mailbox) DO UPDATE SET last_sent_at = excluded.last_sent_at,
      sends = CASE WHEN t.day = excluded.day THEN t.sends + 1 ELSE 1 END, day = excluded.day
  ), domain_sent AS (
    INSERT INTO domain_throttle AS t (domain, window_start, sends)
    SELECT i.domain, $2::timestamptz, count(*) FROM upsert u JOIN input i USING (email_normalized)
    WHERE i.domain IS NOT NULL AND $8::int > 0 GROUP BY i.domain
    ON CONFLICT (domain) DO UPDATE SET
      sends = CASE WHEN t.window_start > $9::timestamptz THEN t.sends + excluded.sends ELSE excluded.sends END,
      window_start = CASE WHEN t.window_start > $9::timestamptz THEN t.window_start ELSE excluded.window_start END
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
    const defaults = inputs.some((i) => !i.listIds?.length) ? await deps.lists.forSignup(undefined) : undefined
    const defaultIds = defaults && 'lists' in defaults ? defaults.lists.map((l) => l.id) : []
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
        lists: (input.listIds?.length ? input.listIds : defaultIds).join(','),
        // The consent wording of the page's language (the one the visitor read), for lists without their own.
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
      deps.confirmDomainHourlyCap,
      new Date(now.getTime() - 3_600_000).toISOString(),
      deps.listName
    ])
    if (result?.capped) deps.warn?.({ domains: result.capped.split(',') }, 'confirmation mails held back: the domain reached CONFIRM_DOMAIN_HOURLY_CAP this hour')
  }
}
