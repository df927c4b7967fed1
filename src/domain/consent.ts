// Consent texts as immutable versions (EDPB Guidelines 05/2020 ¶108: keep a copy of what was shown).
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import { isoSql } from '../db/sql.js'
import { sha256Hex } from '../crypto.js'

/**
 * The version of this consent text, inserting it if no version has this exact text yet. Safe when several
 * instances start at once: the unique sha256 makes a concurrent insert a no-op, and the lookup runs as a
 * separate statement so it sees the row whichever instance committed it.
 */
export async function ensureConsentText (database: Database, text: string): Promise<number> {
  const hash = sha256Hex(text)
  await database.rows(sql`
    INSERT INTO consent_texts (text, sha256)
    SELECT ${text}, ${hash} WHERE NOT EXISTS (SELECT 1 FROM consent_texts WHERE sha256 = ${hash})
    ON CONFLICT (sha256) DO NOTHING`)
  const [row] = await database.rows<{ version: number }>(sql`SELECT version FROM consent_texts WHERE sha256 = ${hash}`)
  return Number(row.version)
}

export interface ConsentText { version: number, text: string, sha256: string, createdAt: string }

export async function getConsentText (database: Database, version: number): Promise<ConsentText | undefined> {
  const [row] = await database.rows<{ version: number, text: string, sha256: string, created_at: string }>(sql`
    SELECT version, text, sha256, ${isoSql('created_at')} AS created_at FROM consent_texts WHERE version = ${version}`)
  return row && { version: Number(row.version), text: row.text, sha256: row.sha256, createdAt: row.created_at }
}
