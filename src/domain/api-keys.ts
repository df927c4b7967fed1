// API keys for scripts and the sending tool: `jl_` and 256 random bits, shown once, stored as SHA-256 (a random key
// of that strength needs no slow hash: OWASP Password Storage Cheat Sheet is about human-chosen secrets). Each has
// a name, a role, an optional expiry and a last-used time; revoking is immediate.
import { sql } from 'drizzle-orm'
import { sha256Hex } from '../crypto.js'
import type { Database } from '../db/client.js'
import type { StaffRole } from './staff.js'
import { randomToken } from './tokens.js'

export const API_KEY_PREFIX = 'jl_'
export const API_KEY_PATTERN = /^jl_[A-Za-z0-9_-]{43}$/

export interface ApiKey {
  id: number
  name: string
  role: StaffRole
  prefix: string
  createdBy: string
  createdAt: string
  expiresAt: string | null
  lastUsedAt: string | null
  revokedAt: string | null
}

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
const COLUMNS = sql.raw(`id, name, role::text AS role, prefix, created_by, ${iso('created_at')} AS created_at,
  ${iso('expires_at')} AS expires_at, ${iso('last_used_at')} AS last_used_at, ${iso('revoked_at')} AS revoked_at`)

interface Row { id: number, name: string, role: StaffRole, prefix: string, created_by: string, created_at: string, expires_at: string | null, last_used_at: string | null, revoked_at: string | null }

const toKey = (r: Row): ApiKey => ({
  id: Number(r.id), name: r.name, role: r.role, prefix: r.prefix, createdBy: r.created_by, createdAt: r.created_at, expiresAt: r.expires_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at
})

/** Creates a key; the returned `secret` is the only time the key exists in full. */
export async function createApiKey (database: Database, input: { name: string, role: StaffRole, expiresAt?: Date, createdBy: string }, now: Date): Promise<{ key: ApiKey, secret: string }> {
  const secret = API_KEY_PREFIX + randomToken()
  const [row] = await database.rows<Row>(sql`
    INSERT INTO api_keys (name, role, key_hash, prefix, created_by, created_at, expires_at)
    VALUES (${input.name}, ${input.role}, ${sha256Hex(secret)}, ${secret.slice(0, 7)}, ${input.createdBy}, ${now.toISOString()}, ${input.expiresAt?.toISOString() ?? null})
    RETURNING ${COLUMNS}`)
  return { key: toKey(row), secret }
}

export async function listApiKeys (database: Database): Promise<ApiKey[]> {
  return (await database.rows<Row>(sql`SELECT ${COLUMNS} FROM api_keys ORDER BY revoked_at IS NOT NULL, id DESC`)).map(toKey)
}

export async function revokeApiKey (database: Database, id: number, now: Date): Promise<ApiKey | undefined> {
  const [row] = await database.rows<Row>(sql`UPDATE api_keys SET revoked_at = coalesce(revoked_at, ${now.toISOString()}) WHERE id = ${id} RETURNING ${COLUMNS}`)
  return row && toKey(row)
}

/** The key's name and role if it is live (not revoked, not expired); its last-used time is written at most once a minute. */
export async function apiKeyStaff (database: Database, secret: string, now: Date): Promise<{ id: number, name: string, role: StaffRole } | undefined> {
  if (!API_KEY_PATTERN.test(secret)) return undefined
  const [row] = await database.query<{ id: number, name: string, role: StaffRole }>(`WITH live AS (
      SELECT id, name, role::text AS role, last_used_at FROM api_keys
      WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2::timestamptz)
    ), touched AS (
      UPDATE api_keys SET last_used_at = $2 WHERE id IN (
        SELECT id FROM live WHERE last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')
    )
    SELECT id, name, role FROM live`, [sha256Hex(secret), now.toISOString()])
  return row && { id: Number(row.id), name: row.name, role: row.role }
}
