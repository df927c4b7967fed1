// The suppression list: what is kept of an erased address (ICO: suppress rather than delete), so nothing can add it
// back without the person. Only a keyed hash is stored, computed here in Node: no secret ever reaches the database.
import { createHmac } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import { acceptedSecrets, type Secrets } from './secrets.js'

export interface SuppressionHash { hash: string, keyId: string }

/**
 * HMAC-SHA256(secret, 'suppression:' + normalised address): keyed, so the list cannot be reversed by hashing guessed
 * addresses without the secret. With the key's fingerprint, so entries made before a rotation stay recognisable.
 */
export function suppressionHash (secret: string, emailNormalized: string): SuppressionHash {
  return {
    hash: createHmac('sha256', secret).update(`suppression:${emailNormalized}`).digest('hex'),
    keyId: suppressionKeyId(secret)
  }
}

/** A fingerprint of the secret a hash was made with (not the secret: an HMAC of a fixed text under it). */
export const suppressionKeyId = (secret: string): string =>
  createHmac('sha256', secret).update('suppression-key-id').digest('hex').slice(0, 16)

/** The address's hash under every accepted secret, the current one first. */
export const suppressionHashes = (secrets: Secrets, emailNormalized: string): string[] =>
  acceptedSecrets(secrets).map((secret) => suppressionHash(secret, emailNormalized).hash)

export async function isSuppressed (database: Database, secrets: Secrets, emailNormalized: string): Promise<boolean> {
  const hashes = suppressionHashes(secrets, emailNormalized)
  const rows = await database.rows(sql`
    SELECT 1 FROM suppressions WHERE email_hash IN (${sql.join(hashes.map((h) => sql`${h}`), sql`, `)})`)
  return rows.length > 0
}

/**
 * Once at start: entries from before key fingerprints existed were made with the secret then in use (the oldest one
 * configured), and a warning names how many entries no configured secret can recognise any more.
 */
export async function checkSuppressionKeys (database: Database, secrets: Secrets, warn: (msg: string, n: number) => void): Promise<void> {
  await database.rows(sql`
    UPDATE suppressions SET key_id = ${suppressionKeyId(secrets.previous ?? secrets.current)} WHERE key_id IS NULL`)
  const known = acceptedSecrets(secrets).map(suppressionKeyId)
  const [row] = await database.rows<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM suppressions WHERE key_id NOT IN (${sql.join(known.map((k) => sql`${k}`), sql`, `)})`)
  if (Number(row.n) > 0) {
    warn('suppression entries were made with a TOKEN_SECRET that is no longer configured: set it as TOKEN_SECRET_PREVIOUS to keep recognising them', Number(row.n))
  }
}
