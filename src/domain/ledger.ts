// The audited staff export: its consent-ledger event and its row count.
import { pipeline, Transform, type TransformCallback } from 'node:stream'
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
  const counter = new CsvRecordCounter()
  // Destroying either stream ends both, and with them the COPY: a download abandoned mid-body (the HTTP layer
  // destroys what it was sending) frees the export's database connection. Its error, if any, reaches the reader.
  pipeline(copy.stream, counter, () => {})
  const rows = new Promise<number | undefined>((resolve) => {
    counter.once('end', () => resolve(counter.records - 1))
    counter.once('close', () => resolve(undefined))
  }).then(async (n) => {
    if (n === undefined) return undefined
    await database.rows(sql`
      UPDATE consent_events SET details = details || jsonb_build_object('rows', ${n}::int) WHERE id = ${eventId}`)
    return n
  })
  return { stream: counter, released: copy.released, rows, rowsSoFar: () => Math.max(0, counter.records - 1) }
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

/**
 * Passes CSV through and counts its records: a newline ends a record only outside double quotes (RFC 4180),
 * and a doubled quote inside a quoted field toggles twice, so the parity stays right.
 */
export class CsvRecordCounter extends Transform {
  records = 0
  private quoted = false

  override _transform (chunk: Buffer | Uint8Array, _enc: BufferEncoding, done: TransformCallback): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    let i = 0
    while (i < buf.length) {
      const quote = buf.indexOf(0x22, i)
      if (!this.quoted) {
        const end = quote < 0 ? buf.length : quote
        for (let nl = buf.indexOf(0x0a, i); nl >= 0 && nl < end; nl = buf.indexOf(0x0a, nl + 1)) this.records++
      }
      if (quote < 0) break
      this.quoted = !this.quoted
      i = quote + 1
    }
    done(null, buf)
  }
}
