// Staff sessions, kept in PostgreSQL so every instance sees a login, a logout or "sign out everywhere" at once.
// The cookie carries 256 random bits; only their SHA-256 is stored. A session ends after STAFF_SESSION_IDLE_MINUTES
// without a request and STAFF_SESSION_HOURS after login, whichever comes first (OWASP Session Management Cheat
// Sheet, "Session Expiration"; OWASP ASVS 5.0 7.3.1 and 7.3.2).
import { sha256Hex } from '../crypto.js'
import type { Database } from '../db/client.js'
import type { StaffRole } from './staff.js'
import { randomToken } from './tokens.js'

export interface SessionLimits { idleMinutes: number, absoluteHours: number }

export interface SessionStaff { staffId: number, email: string, role: StaffRole, sessionHash: string }

export async function startSession (database: Database, staffId: number, now: Date, limits: SessionLimits,
  evidence: { ip?: string, userAgent?: string }): Promise<string> {
  const id = randomToken()
  const at = now.toISOString()
  const expires = new Date(now.getTime() + limits.absoluteHours * 3_600_000).toISOString()
  await database.query(`WITH s AS (
      INSERT INTO staff_sessions (id_hash, staff_id, created_at, last_seen_at, expires_at, ip, user_agent)
      VALUES ($1, $2, $3, $3, $4, $5, $6))
    UPDATE staff_accounts SET last_login_at = $3 WHERE id = $2`,
  [sha256Hex(id), staffId, at, expires, evidence.ip ?? null, evidence.userAgent?.slice(0, 500) ?? null])
  return id
}

/**
 * The member of staff a session cookie belongs to, if the session is live and the account enabled; the role is read
 * from the account, so a role change applies at once. Activity is written at most once a minute per session.
 */
export async function sessionStaff (database: Database, sessionId: string, now: Date, limits: SessionLimits): Promise<SessionStaff | undefined> {
  const idHash = sha256Hex(sessionId)
  const [row] = await database.query<{ staff_id: number, email: string, role: StaffRole }>(`WITH live AS (
      SELECT s.staff_id, a.email, a.role::text AS role, s.last_seen_at FROM staff_sessions s JOIN staff_accounts a ON a.id = s.staff_id
      WHERE s.id_hash = $1 AND s.expires_at > $2::timestamptz AND s.last_seen_at > $2::timestamptz - make_interval(mins => $3)
        AND a.disabled_at IS NULL
    ), touched AS (
      UPDATE staff_sessions SET last_seen_at = $2 WHERE id_hash = $1
        AND EXISTS (SELECT 1 FROM live WHERE last_seen_at < $2::timestamptz - interval '1 minute')
    )
    SELECT staff_id, email, role FROM live`, [idHash, now.toISOString(), limits.idleMinutes])
  return row && { staffId: Number(row.staff_id), email: row.email, role: row.role, sessionHash: idHash }
}

export async function endSession (database: Database, sessionHash: string): Promise<void> {
  await database.query('DELETE FROM staff_sessions WHERE id_hash = $1', [sessionHash])
}

/** "Sign out everywhere": every session of the account, this one included. Returns how many ended. */
export async function endAllSessions (database: Database, staffId: number): Promise<number> {
  const rows = await database.query('DELETE FROM staff_sessions WHERE staff_id = $1 RETURNING 1', [staffId])
  return rows.length
}

/** Removes sessions past their absolute end (called by the retention timer's run, and harmless at any time). */
export async function purgeSessions (database: Database, now: Date): Promise<void> {
  await database.query('DELETE FROM staff_sessions WHERE expires_at <= $1', [now.toISOString()])
}
