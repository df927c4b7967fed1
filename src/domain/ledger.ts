// The audited staff export: its consent-ledger event and its row count.
import { sql } from 'drizzle-orm'
import type { CopyStream, Database } from '../db/client.js'
import { exportSubscribers, type ExportFilter } from './export.js'

/** Who used personal data and how: a staff credential label (never the secret) and the channel. */
export interface Actor { actor: string, method: 'staff-api' | 'cli' | 'self-service', ip?: string, userAgent?: string }

/**
 * The staff export with its audit row: the event is written once the COPY has started (an export that could not
 * start is not on record) and before the first byte leaves, so even an interrupted download is on record; its row
 * count is added once the stream has ended.
 */
export async function auditedExport (database: Database, publicUrl: string, filter: ExportFilter, who: Actor,
  now: () => Date): Promise<AuditedExport> {
  const copy = await exportSubscribers(database, publicUrl, filter)
  let eventId: number
  try {
    eventId = await recordExport(database, filter, who, now)
  } catch (err) {
    copy.stream.destroy()
    throw err
  }
  // A download abandoned mid-body (the HTTP layer destroys what it was sending) ends the COPY and frees the
  // export's database connection (see copyOut). The header is the first line; every other line is a row.
  const rowsSoFar = () => Math.max(0, copy.linesSoFar() - 1)
  const rows = new Promise<number | undefined>((resolve) => {
    copy.stream.once('end', () => resolve(rowsSoFar()))
    copy.stream.once('close', () => resolve(undefined))
  }).then(async (n) => {
    if (n === undefined) return undefined
    await database.rows(sql`
      UPDATE consent_events SET details = details || jsonb_build_object('rows', ${n}::int) WHERE id = ${eventId}`)
    return n
  })
  return { ...copy, rows, rowsSoFar }
}

async function recordExport (database: Database, filter: ExportFilter, who: Actor, now: () => Date): Promise<number> {
  const filters = { status: filter.status, since: filter.since?.toISOString() ?? null, ...(filter.lists?.length ? { lists: filter.lists } : {}) }
  const [event] = await database.rows<{ id: number }>(sql`
    INSERT INTO consent_events (occurred_at, type, ip, user_agent, method, details)
    VALUES (${now().toISOString()}, 'export', ${who.ip ?? null}, ${who.userAgent ?? null}, ${who.method},
      ${JSON.stringify({ actor: who.actor, filters })}::jsonb)
    RETURNING id`)
  return event.id
}

export interface AuditedExport extends CopyStream {
  /** The row count once the stream has ended (undefined if it was cut short); recorded in the ledger too. */
  rows: Promise<number | undefined>
  rowsSoFar(): number
}
