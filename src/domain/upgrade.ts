// Data upgrades only the app can make, because they need TOKEN_SECRET, which never goes to the database.
import type { Database } from '../db/client.js'
import type { Secrets } from './secrets.js'
import { legacyUnsubscribeSecret } from './tokens.js'

const BATCH = 5000

/**
 * Subscribers from before unsubscribe secrets were stored have none: their mails carry links signed with the
 * TOKEN_SECRET of the time (the oldest one configured). Storing exactly that signature as their secret keeps every
 * link already mailed working, and lets the CSV export print it. Safe to run again or from several instances.
 */
export async function backfillUnsubscribeSecrets (database: Database, secrets: Secrets): Promise<number> {
  const signer = secrets.previous ?? secrets.current
  let done = 0
  for (;;) {
    const rows = await database.query<{ id: number, public_id: string }>(
      'SELECT id, public_id FROM subscribers WHERE unsubscribe_secret IS NULL ORDER BY id LIMIT $1', [BATCH])
    if (rows.length === 0) return done
    const values = rows.map((r) => ({ id: Number(r.id), secret: legacyUnsubscribeSecret(signer, r.public_id) }))
    await database.query(`
      UPDATE subscribers s SET unsubscribe_secret = v.secret
      FROM jsonb_to_recordset($1::jsonb) AS v(id bigint, secret text)
      WHERE s.id = v.id AND s.unsubscribe_secret IS NULL`, [JSON.stringify(values)])
    done += rows.length
  }
}
