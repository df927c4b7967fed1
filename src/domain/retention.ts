// Retention (storage limitation, GDPR Art. 5(1)(e)): sign-ups never confirmed are deleted after PENDING_RETENTION_DAYS, with their
// token, IP and user agent; expired confirmation tokens are cleared. Run by the server on a timer and by `npm run purge`.
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'

// An arbitrary constant shared by every instance: whoever holds it runs the purge, the others skip this round.
export const PURGE_LOCK_ID = 727_274_007

export type PurgeResult = { skipped: true } | { skipped: false, deleted: number, tokensCleared: number }

const rowsOf = <T>(result: unknown): T[] => (Array.isArray(result) ? result : (result as { rows: T[] }).rows)

export async function purge (database: Database, now: Date, retentionDays: number): Promise<PurgeResult> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000).toISOString()
  return await database.db.transaction(async (tx) => {
    // Transaction-scoped, so it is released on commit even though the pool hands out any connection.
    const [lock] = rowsOf<{ got: boolean }>(await tx.execute(sql`SELECT pg_try_advisory_xact_lock(${PURGE_LOCK_ID}) AS got`))
    if (!lock.got) return { skipped: true } as const
    // The ledger keeps that a sign-up happened (time, consent text version, source) but nothing about who.
    const [gone] = rowsOf<{ n: number }>(await tx.execute(sql`
      WITH gone AS (
        DELETE FROM subscribers WHERE status = 'pending' AND signed_up_at < ${cutoff} RETURNING id
      ), anonymised AS (
        UPDATE consent_events SET subscriber_id = NULL, ip = NULL, user_agent = NULL
        WHERE subscriber_id IN (SELECT id FROM gone)
      )
      SELECT count(*)::int AS n FROM gone`))
    // An unsubscribed address that signed up again but never confirmed stays unsubscribed (its suppression),
    // but the evidence of that unconfirmed sign-up goes like any other: IP and user agent, in the row and the ledger.
    await tx.execute(sql`
      WITH stale AS (
        UPDATE subscribers SET signup_ip = NULL, signup_user_agent = NULL
        WHERE status = 'unsubscribed' AND signed_up_at > unsubscribed_at AND signed_up_at < ${cutoff}
          AND (signup_ip IS NOT NULL OR signup_user_agent IS NOT NULL)
        RETURNING id, unsubscribed_at
      )
      UPDATE consent_events e SET ip = NULL, user_agent = NULL
      FROM stale WHERE e.subscriber_id = stale.id AND e.type = 'resubscribe' AND e.occurred_at > stale.unsubscribed_at`)
    // A separate statement: two CTEs of one statement must not modify the same row.
    const [cleared] = rowsOf<{ n: number }>(await tx.execute(sql`
      WITH cleared AS (
        UPDATE subscribers SET confirm_token_hash = NULL, confirm_token_expires_at = NULL
        WHERE confirm_token_expires_at < ${now.toISOString()} RETURNING id
      )
      SELECT count(*)::int AS n FROM cleared`))
    return { skipped: false, deleted: Number(gone.n), tokensCleared: Number(cleared.n) } as const
  })
}
