// The outbox worker: claims due messages with FOR UPDATE SKIP LOCKED under a lease, sends them, and records
// the outcome (a transactional outbox). Safe to run in several processes; delivery is at least once, with the
// Message-ID stored on the row so a retry is the same message.
import { sql } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import type { Database } from '../db/client.js'
import { driverError, isDatabaseUnavailable } from '../db/errors.js'
import { maskEmail, maskEmailsIn } from '../domain/email.js'
import type { Lists } from '../domain/lists.js'
import { AWAITING } from '../domain/subscribers.js'
import { unsubscribeToken } from '../domain/tokens.js'
import type Mail from 'nodemailer/lib/mailer/index.js'
import { sha256Hex } from '../crypto.js'
import { PASSWORD_LINK_HOURS } from '../domain/staff.js'
import { confirmationMail, staffInviteMail, UNNAMED_LIST, welcomeMail, type MailSettings } from '../mail/messages.js'
import { isPermanentFailure, type Mailer } from '../mail/transport.js'
import { retryDelayMs } from './backoff.js'

export interface WorkerOptions {
  publicUrl: string
  /** Sender, templates and DKIM, loaded and checked at start (src/mail/messages.ts). */
  mail: MailSettings
  confirmTtlHours: number
  pollMs: number
  /** How many messages are claimed ahead (the window): enough that the SMTP pool never waits for a claim. */
  batchSize: number
  /** Messages being sent at once; the rest of the window waits its turn, and is released on stop. */
  concurrency: number
  leaseSeconds: number
  retryBaseMs: number
  retryMaxMs: number
  maxAttempts: number
  /** The lists, for the names a mail gives and its links (src/domain/lists.ts). */
  lists: Lists
}

interface Claimed {
  id: number
  kind: 'confirmation' | 'welcome' | 'staff-invite'
  message_id: string
  payload: { token?: string, lists?: number[], language?: string } | null
  attempts: number
  list_id: number | null
  /** The status of the subscription a welcome mail is for. */
  list_status: string | null
  /** Whether a subscription still waits for a confirmation (else a confirmation mail is no longer wanted). */
  awaiting: boolean
  email: string
  name: string | null
  language: string | null
  public_id: string
  unsubscribe_secret: string
  subscriber_status: string
  /** A staff invite: the SHA-256 of the account's current unexpired password link (NULL: used, expired or disabled). */
  staff_link_hash: string | null
}

/**
 * How long a sent mark waits for others to share its UPDATE. The mail bench measured one UPDATE per handful of
 * mails as the worker's largest database cost; a mail marked this much later is, at worst, sent again after a
 * crash in between (at least once, with the same Message-ID), as it always could be during the UPDATE itself.
 */
const SENT_GROUP_MS = 20

export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = true
  private again = false
  private sentQueue: Array<{ id: number, resolve: () => void, reject: (err: unknown) => void }> = []
  private flushingSent = false

  constructor (
    private readonly database: Database,
    private readonly mailer: Mailer,
    private readonly log: FastifyBaseLogger,
    private readonly opts: WorkerOptions,
    private readonly now: () => Date = () => new Date()
  ) {}

  start (): void {
    this.stopped = false
    this.kick()
  }

  /** Runs a pass soon: called after a sign-up so its mail does not wait for the next poll. */
  kick (): void {
    if (this.stopped) return
    if (this.running) { this.again = true; return }
    clearTimeout(this.timer)
    this.running = this.loop().finally(() => {
      this.running = undefined
      if (this.stopped) return
      if (this.again) { this.again = false; this.kick(); return }
      this.timer = setTimeout(() => this.kick(), this.opts.pollMs)
    })
  }

  /** Stops claiming; resolves once the messages in hand are sent or released. */
  async stop (): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.running
  }

  private async loop (): Promise<void> {
    // A sliding window, not batch by batch: waiting for a whole batch leaves SMTP connections idle behind its
    // slowest message (the mail bench: 0.6×, see README). Claimed messages queue here and go out `concurrency` at a
    // time; more are claimed once half the window is free. After stop(), messages not yet started are handed back
    // instead of sent (on shutdown, finish or release what it holds), so shutdown never waits for a whole window.
    const window = this.opts.batchSize
    const queue: Claimed[] = []
    const sending = new Set<Promise<void>>()
    const finishing = new Set<Promise<void>>()
    let more = true
    try {
      while (!this.stopped) {
        if (more && queue.length + sending.size <= window / 2) {
          const room = window - queue.length - sending.size
          const batch = await this.claim(room)
          more = batch.length === room
          queue.push(...batch)
        }
        while (!this.stopped && sending.size < this.opts.concurrency && queue.length > 0) {
          const m = queue.shift()!
          // A slot is free again as soon as the SMTP server has the mail: marking it sent (grouped, see markSent)
          // goes on in `finishing`, so the pool is never kept waiting on the database (the mail bench: 0.66× → see README).
          const slot: Promise<void> = new Promise<void>((resolve) => {
            const work: Promise<void> = this.deliver(m, resolve)
              .catch((err) => { this.log.error({ err: driverError(err), outboxId: m.id }, 'outbox message failed; it is retried when its lease ends') })
              .finally(() => { resolve(); finishing.delete(work) })
            finishing.add(work)
          }).finally(() => sending.delete(slot))
          sending.add(slot)
        }
        if (sending.size === 0) break
        await Promise.race(sending)
      }
    } catch (err) {
      // A database outage is logged as a warning: /readyz and the 503s tell that story; anything else is an error.
      const level = isDatabaseUnavailable(err) ? 'warn' : 'error'
      this.log[level]({ err: driverError(err) }, 'outbox pass failed; retrying at the next poll')
    } finally {
      await Promise.all(sending)
      await Promise.all(finishing)
      if (queue.length > 0) {
        await this.release(queue.splice(0).map((m) => m.id))
          .catch((err) => { this.log.warn({ err: driverError(err) }, 'could not release claimed messages; their lease will end') })
      }
    }
  }

  /** Gives claimed but unstarted messages back: due now, and the claim does not count as an attempt. */
  private async release (ids: number[]): Promise<void> {
    await this.database.rows(sql`
      UPDATE outbox SET status = 'pending', next_attempt_at = ${this.now().toISOString()}, attempts = greatest(attempts - 1, 0)
      WHERE status = 'sending' AND id IN (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`)
    this.log.info({ released: ids.length }, 'outbox messages released on stop')
  }

  /** Leases up to `limit` due messages to this process. */
  private async claim (limit: number): Promise<Claimed[]> {
    const now = this.now()
    const leaseEnd = new Date(now.getTime() + this.opts.leaseSeconds * 1000)
    return await this.database.rows<Claimed>(sql`
      WITH due AS (
        SELECT id FROM outbox
        WHERE status IN ('pending', 'sending') AND next_attempt_at <= ${now.toISOString()}
        ORDER BY next_attempt_at LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      ), claimed AS (
        UPDATE outbox o SET status = 'sending', attempts = o.attempts + 1, next_attempt_at = ${leaseEnd.toISOString()}
        FROM due WHERE o.id = due.id
        RETURNING o.id, o.kind, o.message_id, o.payload, o.attempts, o.subscriber_id, o.staff_id, o.list_id
      )
      SELECT c.id, c.kind, c.message_id, c.payload, c.attempts, c.list_id, s.email, s.name, s.language, s.public_id,
        s.unsubscribe_secret, s.status AS subscriber_status,
        (SELECT p.status FROM subscriptions p WHERE p.subscriber_id = c.subscriber_id AND p.list_id = c.list_id) AS list_status,
        EXISTS (SELECT 1 FROM subscriptions p WHERE p.subscriber_id = c.subscriber_id AND ${sql.raw(AWAITING)}) AS awaiting,
        NULL AS staff_link_hash
      FROM claimed c JOIN subscribers s ON s.id = c.subscriber_id
      UNION ALL
      SELECT c.id, c.kind, c.message_id, c.payload, c.attempts, NULL, a.email, NULL, c.payload->>'language', NULL,
        NULL, NULL, NULL, FALSE,
        (SELECT t.token_hash FROM staff_password_tokens t WHERE t.staff_id = a.id AND t.expires_at > ${now.toISOString()} AND a.disabled_at IS NULL)
      FROM claimed c JOIN staff_accounts a ON a.id = c.staff_id`)
  }

  /** Sends one message and records the outcome; `sent` is called once the SMTP server has accepted it. */
  private async deliver (m: Claimed, sent?: () => void): Promise<void> {
    const to = maskEmail(m.email)
    if (m.kind === 'staff-invite') {
      await this.deliverStaffInvite(m, to, sent)
      return
    }
    // A welcome mail to someone who left the list since, or a confirmation when nothing waits for one any more, is
    // not sent: an unsubscribe holds before the next send (Google and Yahoo sender guidelines).
    const unwanted = m.kind === 'welcome'
      ? (m.list_id === null ? m.subscriber_status : m.list_status) !== 'confirmed'
      : !m.awaiting
    if (unwanted || (m.kind === 'confirmation' && !m.payload?.token)) {
      await this.finish(m.id, 'cancelled', 'no longer wanted when its turn came')
      return
    }
    const { lists } = this.opts
    const several = await lists.several()
    const base = this.opts.publicUrl
    const token = unsubscribeToken(m.public_id, m.unsubscribe_secret)
    // With one list, mails are as they always were; with several, each names its lists and links the preference page.
    const manageUrl = several ? `${base}/manage/${token}` : undefined
    // A list without a name of its own, with LIST_NAME unset, is named in the subscriber's language.
    const unnamed = this.opts.mail.listName === undefined ? UNNAMED_LIST : undefined
    const mailFor = (listName: string | undefined) => ({
      ...this.opts.mail,
      listName: listName === unnamed ? undefined : listName,
      to: { address: m.email, name: m.name },
      language: m.language,
      messageId: m.message_id
    })
    let message
    let link
    if (m.kind === 'confirmation') {
      const named = (await Promise.all((m.payload!.lists ?? []).map((id) => lists.byId(id)))).filter((l) => l !== undefined)
      const listName = named.length ? named.map((l) => l.name).join(', ') : this.opts.mail.listName
      link = `${base}/confirm/${m.payload!.token}`
      message = confirmationMail(mailFor(listName), link, this.opts.confirmTtlHours, manageUrl)
    } else {
      const list = m.list_id === null ? undefined : await lists.byId(m.list_id)
      link = `${base}/unsubscribe/${token}${several && list ? `?list=${encodeURIComponent(list.slug)}` : ''}`
      message = welcomeMail(mailFor(list?.name ?? this.opts.mail.listName), link, manageUrl)
    }
    if (!await this.send(m, message, to, sent)) return
    // Embedded mode has no real mail: the link goes to the log on purpose, so a newcomer can follow it.
    if (this.mailer.kind === 'mailbox' && m.kind === 'confirmation') {
      this.log.info(`confirmation link for ${to} (local mailbox, no SMTP_URL): ${link}`)
    }
  }

  /** Sends a built message and records the outcome; false when it failed (and was scheduled again or marked dead). */
  private async send (m: Claimed, message: Mail.Options, to: string, sent?: () => void): Promise<boolean> {
    try {
      await this.mailer.send(message)
    } catch (err) {
      await this.failed(m, err, to)
      return false
    }
    sent?.()
    await this.recordSent(m.id)
    this.log.info({ outboxId: m.id, kind: m.kind, to }, 'mail sent')
    return true
  }

  /** A staff member's set-password link: not sent once that link was used, replaced, expired, or the account disabled. */
  private async deliverStaffInvite (m: Claimed, to: string, sent?: () => void): Promise<void> {
    const token = m.payload?.token
    if (!token || m.staff_link_hash !== sha256Hex(token)) {
      await this.finish(m.id, 'cancelled', 'the link was used, replaced or expired, or the account disabled, before its turn came')
      return
    }
    const message = staffInviteMail({
      ...this.opts.mail,
      to: { address: m.email },
      language: m.language,
      messageId: m.message_id
    }, `${this.opts.publicUrl}/admin/password/${token}`, PASSWORD_LINK_HOURS)
    await this.send(m, message, to, sent)
  }

  private async failed (m: Claimed, err: unknown, to: string): Promise<void> {
    // Kept in last_error and logged: the server's text often quotes the recipient's address.
    const reason = maskEmailsIn(String((err as Error).message ?? err)).slice(0, 500)
    if (isPermanentFailure(err) || m.attempts >= this.opts.maxAttempts) {
      await this.finish(m.id, 'dead', reason)
      this.log.error({ outboxId: m.id, kind: m.kind, to, attempts: m.attempts, reason }, 'mail failed permanently')
      return
    }
    const delay = retryDelayMs(m.attempts, this.opts.retryBaseMs, this.opts.retryMaxMs)
    const next = new Date(this.now().getTime() + delay)
    await this.database.rows(sql`
      UPDATE outbox SET status = 'pending', next_attempt_at = ${next.toISOString()}, last_error = ${reason}
      WHERE id = ${m.id} AND status = 'sending'`)
    this.log.warn({ outboxId: m.id, kind: m.kind, to, attempts: m.attempts, retryInMs: Math.round(delay), reason },
      'mail failed; will retry')
  }

  /**
   * Records a delivered message as sent. The mail is gone already, so a lost database connection is retried for a
   * few seconds: otherwise the lease would run out and the message be sent twice (same Message-ID, but still twice).
   */
  private async recordSent (id: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.markSent(id)
        return
      } catch (err) {
        if (attempt >= 4 || !isDatabaseUnavailable(err)) throw err
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt))
      }
    }
  }

  /**
   * Marks a message sent. Rows finishing while an update is in flight go together in the next one (like a group
   * commit): one UPDATE per handful of mails instead of one per mail, the mail bench's largest database cost.
   */
  private markSent (id: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sentQueue.push({ id, resolve, reject })
      if (this.flushingSent) return
      // The first mark waits a moment for the ones finishing just after it, so they share one UPDATE.
      this.flushingSent = true
      setTimeout(() => { this.flushSent().catch(() => {}) }, SENT_GROUP_MS)
    })
  }

  private async flushSent (): Promise<void> {
    while (this.sentQueue.length > 0) {
      const batch = this.sentQueue.splice(0)
      try {
        // The ids as one text parameter: the statement text stays the same whatever the batch size (it is prepared once).
        await this.database.rows(sql`
          UPDATE outbox SET status = 'sent', payload = NULL, last_error = NULL, sent_at = ${this.now().toISOString()}
          WHERE id = ANY(string_to_array(${batch.map((b) => b.id).join(',')}, ',')::bigint[])`)
        for (const b of batch) b.resolve()
      } catch (err) {
        for (const b of batch) b.reject(err)
      }
    }
    this.flushingSent = false
  }

  private async finish (id: number, status: 'sent' | 'dead' | 'cancelled', reason: string | null): Promise<void> {
    // The payload holds the raw confirmation token: it is not kept once the message is done with. A dead message
    // keeps it, so staff can retry it (POST /admin/outbox/:id/retry); the token still expires on its own.
    await this.database.rows(sql`
      UPDATE outbox SET status = ${status}, payload = CASE WHEN ${status} = 'dead' THEN payload END, last_error = ${reason},
        sent_at = CASE WHEN ${status} = 'sent' THEN ${this.now().toISOString()}::timestamptz END
      WHERE id = ${id}`)
  }
}
