// The webhook worker: orders new events (./dispatch.ts), claims due deliveries under a lease with FOR UPDATE SKIP
// LOCKED (the mail outbox's machinery, src/outbox/worker.ts), POSTs them signed, and records the outcome. At least
// once: a delivery whose process died is claimed again when its lease ends, with the same webhook-id. In order per
// subscriber: only the first unfinished delivery of each (endpoint, subscriber) is pending, the rest wait for it.
import { sql } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import type { Agent } from 'undici'
import type { Database } from '../db/client.js'
import { driverError, isDatabaseUnavailable } from '../db/errors.js'
import { isoSql } from '../db/sql.js'
import { retryDelayMs } from '../outbox/backoff.js'
import { dispatchEvents, eventId, promoteNext, repairChains } from './dispatch.js'
import { signedHeaders } from './signing.js'

export interface WebhookWorkerOptions {
  pollMs: number
  /** Deliveries in flight at once. */
  concurrency: number
  leaseSeconds: number
  timeoutMs: number
  retryBaseMs: number
  retryMaxMs: number
  maxAttempts: number
}

interface Claimed {
  id: number
  attempts: number
  endpoint_id: number
  url: string
  secret: string
  previous_secret: string | null
  event_public_id: string
  type: string
  occurred_at: string
  data: Record<string, unknown>
}

interface Outcome { id: number, code: number }

/** What is kept of a target's answer: a few hundred bytes, enough to tell an error page from another. */
const RESPONSE_KEPT = 300
/** Events ordered and fanned out per pass: one statement each; the bench's 5,000 events take one. */
const DISPATCH_BATCH = 10_000
/** How often chains left without a pending head are looked for (see repairChains). */
const REPAIR_EVERY_MS = 10_000
/** How long a delivered mark waits for others to share its UPDATE (as the mail outbox's sent marks). */
const GROUP_MS = 10

export class WebhookWorker {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = true
  private again = false
  private delivered: Array<Outcome & { resolve: () => void, reject: (err: unknown) => void }> = []
  private flushing = false
  private nextRepair = 0

  constructor (
    private readonly database: Database,
    /** The HTTP agent, made on the first delivery (see targetAgent). */
    private readonly agent: () => Promise<Agent>,
    private readonly log: FastifyBaseLogger,
    private readonly opts: WebhookWorkerOptions,
    private readonly now: () => Date = () => new Date()
  ) {}

  start (): void {
    this.stopped = false
    this.kick()
  }

  /** Runs a pass soon (after an endpoint or a retry changes, or when a pass found more to do). */
  kick (): void {
    if (this.stopped) return
    if (this.running) { this.again = true; return }
    clearTimeout(this.timer)
    this.running = this.loop().then((busy) => { if (busy) this.again = true }, () => {}).finally(() => {
      this.running = undefined
      if (this.stopped) return
      if (this.again) { this.again = false; this.kick(); return }
      this.timer = setTimeout(() => this.kick(), this.opts.pollMs)
    })
  }

  /** Stops claiming; resolves once the deliveries in hand are finished or handed back. */
  async stop (): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.running
  }

  /** One pass: returns whether it did anything (then another pass follows at once: the next in a chain may be due). */
  private async loop (): Promise<boolean> {
    const window = this.opts.concurrency * 4
    const queue: Claimed[] = []
    const sending = new Set<Promise<void>>()
    const finishing = new Set<Promise<void>>()
    let busy = false
    let more = true
    try {
      const { sequenced } = await dispatchEvents(this.database, this.now(), DISPATCH_BATCH)
      busy = sequenced > 0
      if (this.now().getTime() >= this.nextRepair) {
        this.nextRepair = this.now().getTime() + REPAIR_EVERY_MS
        if (await repairChains(this.database, this.now()) > 0) busy = true
      }
      while (!this.stopped) {
        if (more && queue.length + sending.size <= window / 2) {
          const room = window - queue.length - sending.size
          const batch = await this.claim(room)
          more = batch.length === room
          if (batch.length > 0) busy = true
          queue.push(...batch)
        }
        while (!this.stopped && sending.size < this.opts.concurrency && queue.length > 0) {
          const d = queue.shift()!
          // A slot is free again as soon as the target has answered; recording the outcome goes on in `finishing`
          // (the mail outbox does the same: the database never keeps the network waiting).
          const slot: Promise<void> = new Promise<void>((resolve) => {
            const work: Promise<void> = this.deliver(d, resolve)
              .catch((err) => { this.log.error({ err: driverError(err), deliveryId: d.id }, 'webhook delivery failed; it is retried when its lease ends') })
              .finally(() => { resolve(); finishing.delete(work) })
            finishing.add(work)
          }).finally(() => sending.delete(slot))
          sending.add(slot)
        }
        if (sending.size === 0) break
        await Promise.race(sending)
      }
    } catch (err) {
      const level = isDatabaseUnavailable(err) ? 'warn' : 'error'
      this.log[level]({ err: driverError(err) }, 'webhook pass failed; retrying at the next poll')
      busy = false
    } finally {
      await Promise.all(sending)
      await Promise.all(finishing)
      if (queue.length > 0) {
        await this.release(queue.splice(0).map((d) => d.id))
          .catch((err) => { this.log.warn({ err: driverError(err) }, 'could not release claimed deliveries; their lease will end') })
      }
    }
    return busy && !this.stopped
  }

  private async release (ids: number[]): Promise<void> {
    await this.database.rows(sql`
      UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ${this.now().toISOString()}, attempts = greatest(attempts - 1, 0)
      WHERE status = 'sending' AND id = ANY(string_to_array(${ids.join(',')}, ',')::bigint[])`)
  }

  /**
   * Leases up to `limit` due deliveries. Only the first unfinished delivery of each (endpoint, subscriber) is
   * pending (the rest wait behind it), so this is the mail outbox's claim: the due ones, oldest first.
   */
  private async claim (limit: number): Promise<Claimed[]> {
    const now = this.now()
    const leaseEnd = new Date(now.getTime() + this.opts.leaseSeconds * 1000).toISOString()
    return await this.database.rows<Claimed>(sql`
      WITH due AS (
        SELECT d.id FROM webhook_deliveries d
        WHERE d.status IN ('pending', 'sending') AND d.next_attempt_at <= ${now.toISOString()}
        ORDER BY d.next_attempt_at, d.seq LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      ), claimed AS (
        UPDATE webhook_deliveries d SET status = 'sending', attempts = d.attempts + 1, next_attempt_at = ${leaseEnd},
          updated_at = ${now.toISOString()}
        FROM due, webhook_endpoints w WHERE d.id = due.id AND w.id = d.endpoint_id AND w.enabled
        RETURNING d.id, d.attempts, d.endpoint_id, d.event_id, d.seq
      )
      SELECT c.id, c.attempts, c.endpoint_id, w.url, w.secret,
        CASE WHEN w.previous_secret_expires_at > ${now.toISOString()} THEN w.previous_secret END AS previous_secret,
        e.public_id AS event_public_id, e.type, ${isoSql('e.occurred_at')} AS occurred_at, e.data
      FROM claimed c JOIN webhook_endpoints w ON w.id = c.endpoint_id JOIN webhook_events e ON e.id = c.event_id
      ORDER BY c.seq`)
  }

  /** POSTs one delivery and records the outcome; `answered` is called once the target has answered (or failed). */
  private async deliver (d: Claimed, answered: () => void): Promise<void> {
    const id = eventId(d.event_public_id)
    const body = JSON.stringify({ type: d.type, timestamp: d.occurred_at, data: d.data })
    const secrets = d.previous_secret ? [d.secret, d.previous_secret] : [d.secret]
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Joinlist-Webhooks/1',
      ...signedHeaders(secrets, id, Math.floor(this.now().getTime() / 1000), body)
    }
    let code: number
    let excerpt: string
    try {
      const { request } = await import('undici')
      const res = await request(d.url, {
        method: 'POST',
        headers,
        body,
        dispatcher: await this.agent(),
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: this.opts.timeoutMs,
        // A target that trickles its answer would otherwise hold the slot as long as it likes.
        signal: AbortSignal.timeout(this.opts.timeoutMs)
      })
      code = res.statusCode
      excerpt = await readExcerpt(res.body)
    } catch (err) {
      answered()
      await this.failed(d, null, errorText(err), '')
      return
    }
    answered()
    if (code >= 200 && code < 300) {
      await this.markDelivered({ id: d.id, code })
      return
    }
    if (code === 410) {
      await this.gone(d, excerpt)
      return
    }
    await this.failed(d, code, code >= 300 && code < 400 ? `HTTP ${code}: redirects are not followed` : `HTTP ${code}`, excerpt)
  }

  private async failed (d: Claimed, code: number | null, reason: string, excerpt: string): Promise<void> {
    const now = this.now()
    const dead = d.attempts >= this.opts.maxAttempts
    const next = new Date(now.getTime() + retryDelayMs(d.attempts, this.opts.retryBaseMs, this.opts.retryMaxMs))
    // A dead delivery no longer holds up the subscriber's next one.
    await this.database.rows(sql`
      WITH failed AS (
        UPDATE webhook_deliveries SET status = ${dead ? 'dead' : 'pending'}, next_attempt_at = ${next.toISOString()},
          last_status_code = ${code}, last_error = ${reason}, last_response = ${excerpt || null}, updated_at = ${now.toISOString()}
        WHERE id = ${d.id} AND status = 'sending'
        RETURNING endpoint_id, order_key, status
      ), finished AS (SELECT * FROM failed WHERE status = 'dead'), promoted AS (${promoteNext('finished', now.toISOString())})
      SELECT 1`)
    const log = { deliveryId: d.id, endpointId: d.endpoint_id, attempts: d.attempts, statusCode: code, reason }
    if (dead) this.log.error(log, 'webhook delivery is dead: its attempts are used up')
    else this.log.warn({ ...log, retryAt: next.toISOString() }, 'webhook delivery failed; will retry')
  }

  /**
   * 410 Gone: the target says the endpoint no longer exists, so it is turned off (Standard Webhooks: "disable the
   * endpoint"). The delivery waits, attempt not counted, in case staff turn the endpoint back on.
   */
  private async gone (d: Claimed, excerpt: string): Promise<void> {
    const now = this.now().toISOString()
    await this.database.rows(sql`
      WITH endpoint AS (
        UPDATE webhook_endpoints SET enabled = false, disabled_reason = ${`the target answered 410 Gone at ${now}`}, updated_at = ${now}
        WHERE id = ${d.endpoint_id}
      ), parked AS (
        UPDATE webhook_deliveries SET next_attempt_at = 'infinity'
        WHERE endpoint_id = ${d.endpoint_id} AND status = 'pending' AND id <> ${d.id}
      )
      UPDATE webhook_deliveries SET status = 'pending', attempts = greatest(attempts - 1, 0), next_attempt_at = 'infinity',
        last_status_code = 410, last_error = 'HTTP 410: endpoint turned off', last_response = ${excerpt || null}, updated_at = ${now}
      WHERE id = ${d.id} AND status = 'sending'`)
    this.log.warn({ deliveryId: d.id, endpointId: d.endpoint_id }, 'webhook endpoint turned off: the target answered 410 Gone')
  }

  /** Marks a delivery done; marks finishing together share one UPDATE (like a group commit). */
  private markDelivered (outcome: Outcome): Promise<void> {
    return new Promise((resolve, reject) => {
      this.delivered.push({ ...outcome, resolve, reject })
      if (this.flushing) return
      this.flushing = true
      setTimeout(() => { this.flushDelivered().catch(() => {}) }, GROUP_MS)
    })
  }

  private async flushDelivered (): Promise<void> {
    while (this.delivered.length > 0) {
      const batch = this.delivered.splice(0)
      const now = this.now().toISOString()
      try {
        // Ids and codes as two text parameters: the statement text is the same whatever the batch size.
        // The subscriber's next delivery to the same endpoint becomes pending in the same statement.
        await this.database.rows(sql`
          WITH finished AS (
            UPDATE webhook_deliveries d SET status = 'delivered', last_status_code = x.code, last_error = NULL,
              last_response = NULL, delivered_at = ${now}, updated_at = ${now}
            FROM unnest(string_to_array(${batch.map((b) => b.id).join(',')}, ',')::bigint[],
              string_to_array(${batch.map((b) => b.code).join(',')}, ',')::int[]) AS x(id, code)
            WHERE d.id = x.id AND d.status = 'sending'
            RETURNING d.endpoint_id, d.order_key
          ), promoted AS (${promoteNext('finished', now)})
          SELECT 1`)
        for (const b of batch) b.resolve()
      } catch (err) {
        for (const b of batch) b.reject(err)
      }
    }
    this.flushing = false
  }
}

async function readExcerpt (body: AsyncIterable<Buffer> & { dump(opts?: { limit: number }): Promise<void> }): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    chunks.push(chunk)
    size += chunk.length
    if (size >= RESPONSE_KEPT) break
  }
  // Whatever is left is read and thrown away (up to undici's limit, then the connection is closed).
  await body.dump().catch(() => {})
  return Buffer.concat(chunks).subarray(0, RESPONSE_KEPT).toString('utf8').replace(/\uFFFD+$/, '')
}

function errorText (err: unknown): string {
  const e = err as { name?: string, code?: string, message?: string, cause?: { code?: string, message?: string } }
  if (e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') return 'timed out'
  const code = e.code ?? e.cause?.code
  return [code, e.message ?? String(err)].filter(Boolean).join(': ').slice(0, 300)
}
