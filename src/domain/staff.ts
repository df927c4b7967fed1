// Staff accounts: personal accounts with a role (viewer < editor < owner), one-time links to set a password, and
// the login check. Plain functions over the database; the HTTP side is src/routes/admin/console/*.
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import { sha256Hex } from '../crypto.js'
import { newMessageId } from './subscribers.js'
import { randomToken } from './tokens.js'
import { parseEmail } from './email.js'
import { inEnglish, type MessageKey, type Said } from '../messages/index.js'

export const STAFF_ROLES = ['viewer', 'editor', 'owner'] as const
export type StaffRole = typeof STAFF_ROLES[number]

/** How long a set-password link works. */
export const PASSWORD_LINK_HOURS = 72

export interface StaffAccount {
  id: number
  email: string
  role: StaffRole
  hasPassword: boolean
  disabled: boolean
  createdBy: string
  createdAt: string
  lastLoginAt: string | null
}

export type StaffAddResult = { ok: true, account: StaffAccount } | { ok: false, reason: 'invalid' | 'exists', message: string, said: Said }

const ACCOUNT_COLUMNS = sql.raw(`id, email, role::text AS role, password_hash IS NOT NULL AS has_password,
  disabled_at IS NOT NULL AS disabled, created_by, ${iso('created_at')} AS created_at, ${iso('last_login_at')} AS last_login_at`)

function iso (column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
}

interface AccountRow { id: number, email: string, role: StaffRole, has_password: boolean, disabled: boolean, created_by: string, created_at: string, last_login_at: string | null }

const toAccount = (r: AccountRow): StaffAccount => ({
  id: Number(r.id), email: r.email, role: r.role, hasPassword: r.has_password, disabled: r.disabled, createdBy: r.created_by, createdAt: r.created_at, lastLoginAt: r.last_login_at
})

const EXISTS: Said = { key: 'console.api.staffExists' }

/** Creates an account with no password yet; the person sets one through a link (issuePasswordLink). */
export async function addStaff (database: Database, email: string, role: StaffRole, createdBy: string, now: Date): Promise<StaffAddResult> {
  const parsed = parseEmail(email)
  if (!parsed.ok) return { ok: false, reason: 'invalid', message: parsed.message, said: { key: `validation.${parsed.key}` as MessageKey } }
  const rows = await database.rows<AccountRow>(sql`
    INSERT INTO staff_accounts (email, email_normalized, role, created_by, created_at)
    VALUES (${email.trim()}, ${parsed.normalized}, ${role}, ${createdBy}, ${now.toISOString()})
    ON CONFLICT (email_normalized) DO NOTHING
    RETURNING ${ACCOUNT_COLUMNS}`)
  if (rows.length === 0) return { ok: false, reason: 'exists', message: inEnglish(EXISTS), said: EXISTS }
  return { ok: true, account: toAccount(rows[0]) }
}

export async function listStaff (database: Database): Promise<StaffAccount[]> {
  return (await database.rows<AccountRow>(sql`SELECT ${ACCOUNT_COLUMNS} FROM staff_accounts ORDER BY disabled_at IS NOT NULL, email_normalized`)).map(toAccount)
}

export async function getStaff (database: Database, id: number): Promise<StaffAccount | undefined> {
  const [row] = await database.rows<AccountRow>(sql`SELECT ${ACCOUNT_COLUMNS} FROM staff_accounts WHERE id = ${id}`)
  return row && toAccount(row)
}

export async function findStaffByEmail (database: Database, email: string): Promise<StaffAccount | undefined> {
  const parsed = parseEmail(email)
  if (!parsed.ok) return undefined
  const [row] = await database.rows<AccountRow>(sql`SELECT ${ACCOUNT_COLUMNS} FROM staff_accounts WHERE email_normalized = ${parsed.normalized}`)
  return row && toAccount(row)
}

/** Whether any enabled account exists: without one and without ADMIN_TOKEN, staff access is off. */
export async function anyStaff (database: Database): Promise<boolean> {
  const [row] = await database.query<{ found: boolean }>('SELECT EXISTS (SELECT 1 FROM staff_accounts WHERE disabled_at IS NULL) AS found', [])
  return row.found
}

/**
 * A new one-time link to set the password (older links of the account stop working). Returns the raw token; only
 * its SHA-256 is stored. With `mail`, the link is also queued for the account's address through the outbox, in the
 * same statement (the worker sends it; the raw token waits in the outbox row until then, as a confirmation's does).
 */
export async function issuePasswordLink (database: Database, staffId: number, now: Date,
  mail?: { messageIdDomain: string, language: string }): Promise<string> {
  const token = randomToken()
  const expires = new Date(now.getTime() + PASSWORD_LINK_HOURS * 3_600_000).toISOString()
  await database.rows(sql`
    WITH cleared AS (DELETE FROM staff_password_tokens WHERE staff_id = ${staffId}),
    cancelled AS (
      UPDATE outbox SET status = 'cancelled', payload = NULL, last_error = 'replaced by a newer password link'
      WHERE staff_id = ${staffId} AND status IN ('pending', 'dead')
    )${mail
      ? sql`, mailed AS (
      INSERT INTO outbox (staff_id, kind, message_id, payload, next_attempt_at, created_at)
      VALUES (${staffId}, 'staff-invite', ${newMessageId(mail.messageIdDomain)},
        jsonb_build_object('token', ${token}::text, 'language', ${mail.language}::text), ${now.toISOString()}, ${now.toISOString()})
    )`
      : sql``}
    INSERT INTO staff_password_tokens (token_hash, staff_id, expires_at, created_at)
    VALUES (${sha256Hex(token)}, ${staffId}, ${expires}, ${now.toISOString()})`)
  return token
}

/** The account a set-password link belongs to, if the link is genuine and unexpired. */
export async function passwordLinkAccount (database: Database, token: string, now: Date): Promise<StaffAccount | undefined> {
  const [row] = await database.rows<AccountRow>(sql`
    SELECT ${ACCOUNT_COLUMNS} FROM staff_accounts
    WHERE id = (SELECT staff_id FROM staff_password_tokens WHERE token_hash = ${sha256Hex(token)} AND expires_at > ${now.toISOString()})
      AND disabled_at IS NULL`)
  return row && toAccount(row)
}

/**
 * Sets the password through a link, in one statement: the link is used up, and every session of the account ends
 * (a password change signs out everywhere). False if the link is not valid any more.
 */
export async function setPasswordWithLink (database: Database, token: string, passwordHash: string, now: Date): Promise<boolean> {
  const [row] = await database.rows<{ n: number }>(sql`
    WITH link AS (
      DELETE FROM staff_password_tokens WHERE token_hash = ${sha256Hex(token)} AND expires_at > ${now.toISOString()} RETURNING staff_id
    ), updated AS (
      UPDATE staff_accounts SET password_hash = ${passwordHash} WHERE id IN (SELECT staff_id FROM link) AND disabled_at IS NULL RETURNING id
    ), ended AS (
      DELETE FROM staff_sessions WHERE staff_id IN (SELECT id FROM updated)
    )
    SELECT count(*)::int AS n FROM updated`)
  return Number(row.n) > 0
}

export interface LoginAccount { id: number, email: string, role: StaffRole, passwordHash: string | null }

/** What the login form checks a password against: an enabled account's hash (the caller verifies it). */
export async function loginAccount (database: Database, email: string): Promise<LoginAccount | undefined> {
  const parsed = parseEmail(email)
  if (!parsed.ok) return undefined
  const [row] = await database.query<{ id: number, email: string, role: StaffRole, password_hash: string | null }>(
    'SELECT id, email, role::text AS role, password_hash FROM staff_accounts WHERE email_normalized = $1 AND disabled_at IS NULL', [parsed.normalized])
  return row && { id: Number(row.id), email: row.email, role: row.role, passwordHash: row.password_hash }
}

/** Changes the role; the account's sessions pick it up on their next request (the role is read per request). */
export async function setStaffRole (database: Database, id: number, role: StaffRole): Promise<boolean> {
  const rows = await database.rows(sql`UPDATE staff_accounts SET role = ${role} WHERE id = ${id} RETURNING id`)
  return rows.length > 0
}

/** Disables (or enables) an account; disabling ends its sessions and voids its set-password link at once. */
export async function setStaffDisabled (database: Database, id: number, disabled: boolean, now: Date): Promise<boolean> {
  const rows = await database.rows(sql`
    WITH updated AS (
      UPDATE staff_accounts SET disabled_at = ${disabled ? now.toISOString() : null} WHERE id = ${id} RETURNING id
    ), ended AS (
      DELETE FROM staff_sessions WHERE ${disabled} AND staff_id IN (SELECT id FROM updated)
    ), voided AS (
      DELETE FROM staff_password_tokens WHERE ${disabled} AND staff_id IN (SELECT id FROM updated)
    )
    SELECT id FROM updated`)
  return rows.length > 0
}
