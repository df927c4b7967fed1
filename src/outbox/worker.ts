// The outbox worker: claims due messages with FOR UPDATE SKIP LOCKED under a lease, sends them, and records
// the outcome (STANDARDS F31–F34). Safe to run in several processes; delivery is at least once, with the
// Message-ID stored on the row so a retry is the same message.
import { sql } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import type { Database } from '../db/client.js'
import { maskEmail } from '../domain/email.js'
import { unsubscribeToken } from '../domain/tokens.js'
import { confirmationMail, welcomeMail, type MailSettings } from '../mail/messages.js'
import { isPermanentFailure, type Mailer } from '../mail/transport.js'

export interface WorkerOptions {
  publicUrl: string
  /** Sender, templates and DKIM, loaded and checked at start (src/mail/messages.ts). */
  mail: MailSettings
  tokenSecret: string
  confirmTtlHours: number
  pollMs: number
  batchSize: number
  leaseSeconds: number
  retryBaseMs: number
  retryMaxMs: number
  maxAttempts: number
}

interface Claimed {
  id: number
  kind: 'confirmation' | 'welcome'
  message_id: string
  payload: { token?: string } | null
  attempts: number
  email: string
  name: string | null
  public_id: string
  subscriber_status: string
}

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
    // slowest message. Claim again as soon as half the window is free (the mail bench: 0.6× → see README).
    const inFlight = new Set<Promise<void>>()
    const window = this.opts.batchSize
    try {
      let more = true
      while (!this.stopped && more) {
        const room = window - inFlight.size
        const batch = await this.claim(room)
        more = batch.length === room
        for (const m of batch) {
          const sending: Promise<void> = this.deliver(m)
            .catch((err) => { this.log.error({ err, outboxId: m.id }, 'outbox message failed; it is retried when its lease ends') })
            .finally(() => inFlight.delete(sending))
          inFlight.add(sending)
        }
        while (inFlight.size > (more ? window / 2 : 0)) await Promise.race(inFlight)
      }
    } catch (err) {
      this.log.error({ err }, 'outbox pass failed; retrying at the next poll')
    } finally {
      await Promise.all(inFlight)
    }
  }

  /** Claims and sends one batch; returns how many messages it claimed. */
  async runOnce (): Promise<number> {
    const batch = await this.claim(this.opts.batchSize)
    await Promise.all(batch.map((m) => this.deliver(m)))
    return batch.length
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
        RETURNING o.id, o.kind, o.message_id, o.payload, o.attempts, o.subscriber_id
      )
      SELECT c.id, c.kind, c.message_id, c.payload, c.attempts, s.email, s.name, s.public_id,
        s.status AS subscriber_status
      FROM claimed c JOIN subscribers s ON s.id = c.subscriber_id`)
  }

  private async deliver (m: Claimed): Promise<void> {
    const to = maskEmail(m.email)
    // A welcome mail to someone who left since, or a confirmation to someone confirmed since, is not sent (A5).
    const unwanted = m.kind === 'welcome' ? m.subscriber_status !== 'confirmed' : m.subscriber_status === 'confirmed'
    if (unwanted || (m.kind === 'confirmation' && !m.payload?.token)) {
      await this.finish(m.id, 'cancelled', 'no longer wanted when its turn came')
      return
    }
    const ctx = { ...this.opts.mail, to: { address: m.email, name: m.name }, messageId: m.message_id }
    const base = this.opts.publicUrl
    const link = m.kind === 'confirmation'
      ? `${base}/confirm/${m.payload!.token}`
      : `${base}/unsubscribe/${unsubscribeToken(this.opts.tokenSecret, m.public_id)}`
    const message = m.kind === 'confirmation'
      ? confirmationMail(ctx, link, this.opts.confirmTtlHours)
      : welcomeMail(ctx, link)
    try {
      await this.mailer.send(message)
    } catch (err) {
      await this.failed(m, err, to)
      return
    }
    await this.markSent(m.id)
    this.log.info({ outboxId: m.id, kind: m.kind, to }, 'mail sent')
    // Embedded mode has no real mail: the link goes to the log on purpose, so a newcomer can follow it.
    if (this.mailer.kind === 'mailbox' && m.kind === 'confirmation') {
      this.log.info(`confirmation link for ${to} (local mailbox, no SMTP_URL): ${link}`)
    }
  }

  private async failed (m: Claimed, err: unknown, to: string): Promise<void> {
    const reason = String((err as Error).message ?? err).slice(0, 500)
    if (isPermanentFailure(err) || m.attempts >= this.opts.maxAttempts) {
      await this.finish(m.id, 'dead', reason)
      this.log.error({ outboxId: m.id, kind: m.kind, to, attempts: m.attempts, reason }, 'mail failed permanently')
      return
    }
    // Capped exponential backoff with jitter (half fixed, half random), so a recovering server is not stampeded.
    const cap = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** (m.attempts - 1))
    const delay = cap / 2 + Math.random() * cap / 2
    const next = new Date(this.now().getTime() + delay)
    await this.database.rows(sql`
      UPDATE outbox SET status = 'pending', next_attempt_at = ${next.toISOString()}, last_error = ${reason}
      WHERE id = ${m.id} AND status = 'sending'`)
    this.log.warn({ outboxId: m.id, kind: m.kind, to, attempts: m.attempts, retryInMs: Math.round(delay), reason },
      'mail failed; will retry')
  }

  /**
   * Marks a message sent. Rows finishing while an update is in flight go together in the next one (like a group
   * commit): one UPDATE per handful of mails instead of one per mail, the mail bench's largest database cost.
   */
  private markSent (id: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sentQueue.push({ id, resolve, reject })
      if (!this.flushingSent) void this.flushSent()
    })
  }

  private async flushSent (): Promise<void> {
    this.flushingSent = true
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
    // The payload holds the raw confirmation token: it is not kept once the message is done with.
    await this.database.rows(sql`
      UPDATE outbox SET status = ${status}, payload = NULL, last_error = ${reason},
        sent_at = CASE WHEN ${status} = 'sent' THEN ${this.now().toISOString()}::timestamptz END
      WHERE id = ${id}`)
  }
}

