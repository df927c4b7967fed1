// The mail still waiting to be sent (pending, or claimed by a worker under a lease), for the staff mail page.
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import { maskEmail, maskEmailsIn } from '../domain/email.js'

export interface WaitingMessage { id: number, kind: string, status: string, to: string, attempts: number, nextAttemptAt: string, lastError: string | null }

export async function waitingMail (database: Database, limit = 100): Promise<WaitingMessage[]> {
  const rows = await database.rows<{ id: number, kind: string, status: string, email: string, attempts: number, next_attempt_at: string, last_error: string | null }>(sql`
    SELECT o.id, o.kind::text AS kind, o.status::text AS status, coalesce(s.email, a.email) AS email, o.attempts, o.last_error,
      to_char(o.next_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS next_attempt_at
    FROM outbox o LEFT JOIN subscribers s ON s.id = o.subscriber_id LEFT JOIN staff_accounts a ON a.id = o.staff_id
    WHERE o.status IN ('pending', 'sending') ORDER BY o.next_attempt_at, o.id LIMIT ${limit}`)
  return rows.map((r) => ({
    id: Number(r.id), kind: r.kind, status: r.status, to: maskEmail(r.email), attempts: Number(r.attempts), nextAttemptAt: r.next_attempt_at, lastError: r.last_error && maskEmailsIn(r.last_error)
  }))
}
