// The staff audit trail as staff read it: staff actions recorded in staff_audit (accounts, keys, logins, mail
// retries, unsubscribes and resends by staff) together with the staff uses of personal data that the consent ledger
// records (exports, subject access, erasures), newest first, filterable by who and what.
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'

export interface AuditEntry { actor: string, action: string, target?: string, ip?: string, details?: Record<string, unknown> }

export async function recordAudit (database: Database, entry: AuditEntry, now: Date): Promise<void> {
  await database.query('INSERT INTO staff_audit (occurred_at, actor, action, target, ip, details) VALUES ($1, $2, $3, $4, $5, $6)',
    [now.toISOString(), entry.actor, entry.action, entry.target ?? null, entry.ip ?? null, JSON.stringify(entry.details ?? {})])
}

export interface AuditRow { at: string, actor: string, action: string, target: string | null, ip: string | null, details: Record<string, unknown> }

export interface AuditFilter { actor?: string, action?: string, limit: number }

/** The most recent staff actions, newest first (at most `limit`), from both tables. */
export async function listAudit (database: Database, filter: AuditFilter): Promise<AuditRow[]> {
  const actor = filter.actor ? `%${filter.actor.replace(/[\\%_]/g, (c) => '\\' + c)}%` : null
  const action = filter.action ?? null
  return await database.rows<AuditRow>(sql`
    SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at, actor, action, target, ip, details FROM (
      SELECT occurred_at AS at, actor, action, target, host(ip) AS ip, details FROM staff_audit
      UNION ALL
      SELECT occurred_at, coalesce(details->>'actor', method), type::text, NULL, host(ip), details - 'actor'
      FROM consent_events WHERE method IN ('staff-api', 'cli') AND type IN ('export', 'access', 'erasure', 'unsubscribe')
    ) a
    WHERE (${actor}::text IS NULL OR a.actor ILIKE ${actor}) AND (${action}::text IS NULL OR a.action = ${action})
    ORDER BY a.at DESC LIMIT ${filter.limit}`)
}
