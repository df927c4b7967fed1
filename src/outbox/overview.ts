// What staff and monitoring see of the outbox: counts by status, the dead letters, and putting dead messages back
// in the queue (permanent failures go to a dead-letter state that staff can see and retry).
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import { maskEmail, maskEmailsIn } from '../domain/email.js'
import { outboxStatus, subscriberStatus } from '../db/schema.js'

export const OUTBOX_STATUSES = outboxStatus.enumValues
export const SUBSCRIBER_STATUSES = subscriberStatus.enumValues

export type OutboxCounts = Record<(typeof OUTBOX_STATUSES)[number], number>

export interface DeadMessage {
  id: number
  kind: string
  /** Masked: staff see which message failed without the list leaking through this page. */
  to: string
  attempts: number
  lastError: string | null
  createdAt: string
}

export interface OutboxOverview {
  counts: OutboxCounts
  /** Seconds since the oldest message still waiting (pending or sending) was queued; 0 when none waits. */
  oldestWaitingSeconds: number
  dead: DeadMessage[]
}

/** Counts of outbox messages by status, and how long the oldest waiting one has waited. */
export async function outboxCounts (database: Database, now: Date): Promise<Omit<OutboxOverview, 'dead'>> {
  const rows = await database.rows<{ status: string, n: number, oldest: string | null }>(sql`
    SELECT status::text AS status, count(*)::int AS n, min(created_at)::text AS oldest FROM outbox GROUP BY status`)
  const counts = Object.fromEntries(OUTBOX_STATUSES.map((s) => [s, 0])) as OutboxCounts
  let oldest: number | undefined
  for (const row of rows) {
    counts[row.status as keyof OutboxCounts] = Number(row.n)
    if ((row.status === 'pending' || row.status === 'sending') && row.oldest) {
      const at = new Date(row.oldest).getTime()
      oldest = oldest === undefined ? at : Math.min(oldest, at)
    }
  }
  const oldestWaitingSeconds = oldest === undefined ? 0 : Math.max(0, (now.getTime() - oldest) / 1000)
  return { counts, oldestWaitingSeconds }
}

/** The counts plus the most recent dead messages (at most `limit`). */
export async function outboxOverview (database: Database, now: Date, limit = 100): Promise<OutboxOverview> {
  const { counts, oldestWaitingSeconds } = await outboxCounts(database, now)
  const dead = await database.rows<{ id: number, kind: string, email: string, attempts: number, last_error: string | null, created_at: string }>(sql`
    SELECT o.id, o.kind::text AS kind, coalesce(s.email, a.email) AS email, o.attempts, o.last_error, o.created_at::text AS created_at
    FROM outbox o LEFT JOIN subscribers s ON s.id = o.subscriber_id LEFT JOIN staff_accounts a ON a.id = o.staff_id
    WHERE o.status = 'dead' ORDER BY o.id DESC LIMIT ${limit}`)
  return {
    counts,
    oldestWaitingSeconds,
    dead: dead.map((d) => ({
      id: Number(d.id),
      kind: d.kind,
      to: maskEmail(d.email),
      attempts: Number(d.attempts),
      // Masked when stored too; this covers errors stored before that was done.
      lastError: d.last_error && maskEmailsIn(d.last_error),
      createdAt: new Date(d.created_at).toISOString()
    }))
  }
}

/** Subscribers by status, for monitoring. */
export async function subscriberCounts (database: Database): Promise<Record<(typeof SUBSCRIBER_STATUSES)[number], number>> {
  const rows = await database.rows<{ status: string, n: number }>(sql`
    SELECT status::text AS status, count(*)::int AS n FROM subscribers GROUP BY status`)
  const counts = Object.fromEntries(SUBSCRIBER_STATUSES.map((s) => [s, 0])) as Record<(typeof SUBSCRIBER_STATUSES)[number], number>
  for (const row of rows) counts[row.status as keyof typeof counts] = Number(row.n)
  return counts
}

/**
 * Puts dead messages back in the queue, due now, with a fresh attempt budget: one message (`id`) or all of them.
 * Returns how many were requeued. A message whose subscriber has since confirmed or left is still requeued: the
 * worker cancels it when its turn comes (the same rule as for any queued message).
 */
export async function retryDead (database: Database, now: Date, id?: number): Promise<number> {
  const rows = await database.rows(sql`
    UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ${now.toISOString()}
    WHERE status = 'dead' ${id === undefined ? sql`` : sql`AND id = ${id}`}
    RETURNING id`)
  return rows.length
}
