// The outbox worker: claims due messages with FOR UPDATE SKIP LOCKED under a lease, sends them, and records
// the outcome (STANDARDS F31–F34). Safe to run in several processes; delivery is at least once, with the
// Message-ID stored on the row so a retry is the same message.
import { sql } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import type { Database } from '../db/client.js'
import { driverError, isDatabaseUnavailable } from '../db/errors.js'
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
  /** Messages sent at once (the SMTP pool size): the rest of a batch waits its turn, and is released on stop. */
  concurrency: number
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
    try {
      // Keep going while batches come back full; then wait for the next poll or kick.
      while (!this.stopped && await this.runOnce() === this.opts.batchSize) { /* next batch */ }
    } catch (err) {
      // A database outage is logged as a warning: /readyz and the 503s tell that story; anything else is an error.
      const level = isDatabaseUnavailable(err) ? 'warn' : 'error'
      this.log[level]({ err: driverError(err) }, 'outbox pass failed; retrying at the next poll')
    }
  }

  /** Claims and sends one batch; returns how many messages it claimed. */
  async runOnce (): Promise<number> {
    const now = this.now()
    const leaseEnd = new Date(now.getTime() + this.opts.leaseSeconds * 1000)
    const batch = await this.database.rows<Claimed>(sql`
      WITH due AS (
        SELECT id FROM outbox
        WHERE status IN ('pending', 'sending') AND next_attempt_at <= ${now.toISOString()}
        ORDER BY next_attempt_at LIMIT ${this.opts.batchSize}
        FOR UPDATE SKIP LOCKED
      ), claimed AS (
        UPDATE outbox o SET status = 'sending', attempts = o.attempts + 1, next_attempt_at = ${leaseEnd.toISOString()}
        FROM due WHERE o.id = due.id
        RETURNING o.id, o.kind, o.message_id, o.payload, o.attempts, o.subscriber_id
      )
      SELECT c.id, c.kind, c.message_id, c.payload, c.attempts, s.email, s.name, s.public_id,
        s.status AS subscriber_status
      FROM claimed c JOIN subscribers s ON s.id = c.subscriber_id`)
    // Send in as many lanes as the SMTP pool has connections. Once stop() is called, a lane hands the messages it
    // has not started back to the queue instead of sending them (STANDARDS F35: finish or release what it holds).
    const released: number[] = []
    let next = 0
    const lane = async () => {
      while (next < batch.length) {
        const m = batch[next++]
        if (this.stopped) released.push(m.id)
        else await this.deliver(m)
      }
    }
    const lanes = await Promise.allSettled(Array.from({ length: Math.min(this.opts.concurrency, batch.length) }, lane))
    if (released.length > 0) await this.release(released)
    const failure = lanes.find((l) => l.status === 'rejected')
    if (failure) throw failure.reason
    return batch.length
  }

  /** Gives claimed but unstarted messages back: due now, and the claim does not count as an attempt. */
  private async release (ids: number[]): Promise<void> {
    await this.database.rows(sql`
      UPDATE outbox SET status = 'pending', next_attempt_at = ${this.now().toISOString()}, attempts = greatest(attempts - 1, 0)
      WHERE status = 'sending' AND id IN (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`)
    this.log.info({ released: ids.length }, 'outbox messages released on stop')
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
    await this.recordSent(m.id)
    this.log.info({ outboxId: m.id, kind: m.kind, to }, 'mail sent')
    // Embedded mode has no real mail: the link goes to the log on purpose, so a newcomer can follow it.
    if (this.mailer.kind === 'mailbox' && m.kind === 'confirmation') {
      this.log.info(`confirmation link for ${to} (local mailbox, no SMTP_URL): ${link}`)
    }
  }

  /**
   * Marks a delivered message sent. The mail is gone already, so a lost database connection is retried for a few
   * seconds: otherwise the lease would run out and the message be sent twice (same Message-ID, but still twice).
   */
  private async recordSent (id: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.finish(id, 'sent', null)
        return
      } catch (err) {
        if (attempt >= 4 || !isDatabaseUnavailable(err)) throw err
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt))
      }
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

  private async finish (id: number, status: 'sent' | 'dead' | 'cancelled', reason: string | null): Promise<void> {
    // The payload holds the raw confirmation token: it is not kept once the message is done with. A dead message
    // keeps it, so staff can retry it (POST /admin/outbox/:id/retry); the token still expires on its own.
    await this.database.rows(sql`
      UPDATE outbox SET status = ${status}, payload = CASE WHEN ${status} = 'dead' THEN payload END, last_error = ${reason},
        sent_at = CASE WHEN ${status} = 'sent' THEN ${this.now().toISOString()}::timestamptz END
      WHERE id = ${id}`)
  }
}

