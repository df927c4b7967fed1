// Reading an import file: a CSV from Mailchimp (audience export, and its unsubscribed and cleaned files), listmonk or
// a spreadsheet, streamed through csv-parse. Each record becomes a row with its consent evidence as the file gives
// it, or a problem naming its line and column; nothing is guessed (EDPB Guidelines 05/2020 ¶108: consent evidence is
// what was recorded, not what is assumed).
import { isIP } from 'node:net'
import { pipeline, Readable } from 'node:stream'
import { parse, type CsvError } from 'csv-parse'
import { oneLine } from '../text.js'
import { parseEmail } from './email.js'
import { SaidError, type Said } from '../messages/index.js'
import { inEnglish, type MessageKey } from '../messages/index.js'

export type ImportStatus = 'confirmed' | 'pending' | 'unsubscribed'

export interface ImportRow {
  line: number
  email: string
  emailNormalized: string
  name: string | null
  status: ImportStatus
  source: string | null
  signedUpAt: string | null
  signupIp: string | null
  confirmedAt: string | null
  confirmIp: string | null
  unsubscribedAt: string | null
  /** The file said confirmed but gave no time of opt-in: imported as pending instead. */
  noEvidence: boolean
}

/** `reason` is English; `said` is the same in any language, for an answer in the reader's own. */
export interface ImportProblem { line: number, column?: string, reason: string, said?: Said }

/** A file that cannot be imported at all: `status` is the HTTP status it maps to. Nothing has been written. */
export class ImportError extends SaidError {
  constructor (readonly status: 400 | 404 | 413 | 415, readonly code: string, message: string | Said) { super(message) }
}

type Field = 'email' | 'name' | 'firstName' | 'lastName' | 'status' | 'source' | 'signedUpAt' | 'signupIp' |
  'confirmedAt' | 'confirmIp' | 'unsubscribedAt' | 'cleanedAt'

// Header names, lower-cased, as Mailchimp (`Email Address`, `OPTIN_TIME`…), listmonk (`email`, `created_at`…) and
// people's own spreadsheets name them.
const HEADERS: Record<string, Field> = {
  email: 'email',
  'email address': 'email',
  'e-mail': 'email',
  'e-mail address': 'email',
  email_address: 'email',
  name: 'name',
  'full name': 'name',
  'first name': 'firstName',
  first_name: 'firstName',
  fname: 'firstName',
  'last name': 'lastName',
  last_name: 'lastName',
  lname: 'lastName',
  status: 'status',
  source: 'source',
  optin_time: 'signedUpAt',
  created_at: 'signedUpAt',
  signed_up_at: 'signedUpAt',
  optin_ip: 'signupIp',
  signup_ip: 'signupIp',
  confirm_time: 'confirmedAt',
  confirmed_at: 'confirmedAt',
  confirm_ip: 'confirmIp',
  unsub_time: 'unsubscribedAt',
  unsubscribed_at: 'unsubscribedAt',
  clean_time: 'cleanedAt'
}

// Status words of Joinlist, Mailchimp and listmonk (its subscriber status, and its per-list subscription status).
const STATUSES: Record<string, ImportStatus> = {
  confirmed: 'confirmed',
  subscribed: 'confirmed',
  enabled: 'confirmed',
  pending: 'pending',
  unconfirmed: 'pending',
  unsubscribed: 'unsubscribed',
  cleaned: 'unsubscribed',
  blocklisted: 'unsubscribed',
  disabled: 'unsubscribed'
}

export interface Columns {
  /** The columns used, by the header they had in the file. */
  used: Record<string, string>
  ignored: string[]
}

/** The header line's delimiter: `;` where European Excel writes it, a tab from a copied sheet, else `,`. */
export function delimiterOf (headerLine: string): string {
  const counts = [',', ';', '\t'].map((d) => [d, headerLine.split(d).length - 1] as const)
  const [best] = counts.sort((a, b) => b[1] - a[1])
  return best[1] > 0 ? best[0] : ','
}

const FIELD_LABEL: Record<Field, string> = {
  email: 'email',
  name: 'name',
  firstName: 'first name',
  lastName: 'last name',
  status: 'status',
  source: 'source',
  signedUpAt: 'opt-in time',
  signupIp: 'opt-in IP',
  confirmedAt: 'confirmation time',
  confirmIp: 'confirmation IP',
  unsubscribedAt: 'unsubscribe time',
  cleanedAt: 'cleaned time'
}

/** The most the CSV parser is given at once (see rest() below). */
const PARSE_PIECE = 8 * 1024

/**
 * Streams the rows of a CSV file. `onRow` gets each valid row (awaited, so the caller's backpressure holds the
 * parser), `onProblem` each invalid one. Throws ImportError for a file that is not a usable CSV.
 */
export async function readImportFile (input: AsyncIterable<Buffer>, now: Date, onRow: (row: ImportRow) => Promise<void> | void,
  onProblem: (problem: ImportProblem) => void): Promise<{ columns: Columns, read: number }> {
  const iterator = input[Symbol.asyncIterator]()
  // The first line decides the delimiter (csv-parse does not guess it).
  const head: Buffer[] = []
  let headText = ''
  while (!/[\r\n]/.test(headText)) {
    const next = await iterator.next()
    if (next.done) break
    head.push(next.value)
    headText += next.value.toString('utf8')
    if (headText.length > 65_536) break
  }
  if (headText.replace(/^\uFEFF/, '').trim() === '') throw new ImportError(400, 'empty_file', { key: 'console.api.emptyFile' })
  const delimiter = delimiterOf(headText.split(/\r?\n|\r/)[0])
  // In pieces of at most PARSE_PIECE bytes, read one ahead: what the parser holds at once (a piece's records) stays
  // small, so little of it lives long enough for V8 to move it to the old generation, which then grows with garbage
  // (a 64 KiB socket read is some 600 records, and Readable.from read sixteen of them ahead).
  async function * pieces (chunk: Buffer): AsyncGenerator<Buffer> {
    for (let at = 0; at < chunk.length; at += PARSE_PIECE) yield chunk.subarray(at, at + PARSE_PIECE)
  }
  async function * rest (): AsyncGenerator<Buffer> {
    for (const chunk of head) yield * pieces(chunk)
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield * pieces(next.value)
  }
  const parser = parse({ bom: true, delimiter, info: true, relax_column_count: true, skip_empty_lines: true, trim: false })
  // An error on the way in (the size limit, a client gone) destroys the parser with it, and so ends the loop below;
  // leaving the loop early destroys the source in turn.
  pipeline(Readable.from(rest(), { highWaterMark: 1 }), parser, () => {})
  let fields: (Field | undefined)[] | undefined
  let columns: Columns = { used: {}, ignored: [] }
  let fileStatus: ImportStatus | undefined
  let read = 0
  let crlfs = 0
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[], info: { lines: number } }>) {
      if (!fields) {
        ({ fields, columns, fileStatus } = headerOf(record))
        continue
      }
      read++
      // csv-parse counts the line a record ends on, a CRLF inside a quoted field as two lines; a record with line
      // breaks in a field started earlier.
      let breaks = 0
      for (const f of record) {
        if (!/[\r\n]/.test(f)) continue
        crlfs += f.split('\r\n').length - 1
        breaks += f.match(/\r\n|\r|\n/g)!.length
      }
      const line = info.lines - crlfs - breaks
      const result = rowOf(record, fields, fileStatus, line, now)
      if ('reason' in result) onProblem(result)
      else await onRow(result)
    }
  } catch (err) {
    if (err instanceof ImportError) throw err
    const csv = err as CsvError & { lines?: number }
    if (typeof csv.code === 'string' && csv.code.startsWith('CSV_')) {
      throw new ImportError(400, 'invalid_csv', { key: 'console.api.invalidCsv', vars: { line: csv.lines ?? '?', problem: csv.message.replace(/^Invalid \w+: /, '') } })
    }
    throw err
  }
  if (!fields) throw new ImportError(400, 'empty_file', { key: 'console.api.noHeader' })
  return { columns, read }
}

function headerOf (record: string[]): { fields: (Field | undefined)[], columns: Columns, fileStatus?: ImportStatus } {
  const columns: Columns = { used: {}, ignored: [] }
  const seen = new Set<Field>()
  const fields = record.map((header) => {
    const field = HEADERS[header.trim().toLowerCase()]
    if (!field || seen.has(field)) { columns.ignored.push(header); return undefined }
    seen.add(field)
    columns.used[FIELD_LABEL[field]] = header
    return field
  })
  if (!seen.has('email')) {
    throw new ImportError(400, 'missing_email_column',
      { key: 'console.api.noEmailColumn', vars: { found: record.slice(0, 20).map((h) => `"${h}"`).join(', ') } })
  }
  // Mailchimp's exports have no status column: the file is the status. Its unsubscribed and cleaned files have an
  // unsubscribe or clean time; its audience export lists subscribed members, with their opt-in columns.
  const fileStatus = seen.has('unsubscribedAt') || seen.has('cleanedAt')
    ? 'unsubscribed'
    : !seen.has('status') && (seen.has('signedUpAt') || seen.has('confirmedAt')) ? 'confirmed' : undefined
  return { fields, columns, fileStatus }
}

function rowOf (record: string[], fields: (Field | undefined)[], fileStatus: ImportStatus | undefined, line: number,
  now: Date): ImportRow | ImportProblem {
  const value: Partial<Record<Field, string>> = {}
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]
    const v = record[i]?.trim()
    if (field && v) value[field] = v
  }
  const problem = (column: Field, said: Said): ImportProblem => ({ line, column: FIELD_LABEL[column], reason: inEnglish(said), said })
  for (const [field, v] of Object.entries(value) as [Field, string][]) {
    if (v.includes('\uFFFD')) return problem(field, { key: 'console.importProblems.notUtf8' })
  }
  const email = parseEmail(value.email ?? '')
  if (!email.ok) return problem('email', { key: `validation.${email.key}` as MessageKey })
  const times: Partial<Record<Field, string | null>> = {}
  for (const field of ['signedUpAt', 'confirmedAt', 'unsubscribedAt', 'cleanedAt'] as const) {
    if (value[field] === undefined) continue
    const at = timeOf(value[field], now)
    if (!at) return problem(field, { key: 'console.importProblems.notDate', vars: { value: value[field] } })
    times[field] = at
  }
  for (const field of ['signupIp', 'confirmIp'] as const) {
    if (value[field] !== undefined && !isIP(value[field])) return problem(field, { key: 'console.importProblems.notIp', vars: { value: value[field] } })
  }
  let status = fileStatus ?? 'pending'
  if (value.status !== undefined && !fileStatus) {
    const mapped = STATUSES[value.status.toLowerCase()]
    if (!mapped) return problem('status', { key: 'console.importProblems.notStatus', vars: { value: value.status } })
    status = mapped
  }
  // Confirmed needs the file's own evidence of an opt-in; without it the row can only wait for a confirmation.
  const noEvidence = status === 'confirmed' && !times.signedUpAt && !times.confirmedAt
  if (noEvidence) status = 'pending'
  // Names and sources travel into mail headers and pages: on one line, as long as a sign-up's may be.
  const name = oneLine(value.name ?? [value.firstName, value.lastName].filter(Boolean).join(' ')).slice(0, 100) || null
  return {
    line,
    email: email.email,
    emailNormalized: email.normalized,
    name,
    status,
    source: value.source === undefined ? null : oneLine(value.source).slice(0, 64) || null,
    signedUpAt: times.signedUpAt ?? null,
    signupIp: value.signupIp ?? null,
    confirmedAt: status === 'confirmed' ? times.confirmedAt ?? null : null,
    confirmIp: status === 'confirmed' ? value.confirmIp ?? null : null,
    unsubscribedAt: status === 'unsubscribed' ? times.unsubscribedAt ?? times.cleanedAt ?? null : null,
    noEvidence
  }
}

// 2024-05-31, 2024-05-31 14:02, 2024-05-31T14:02:00.123Z, 2024-05-31 14:02:00+02, …+0200, …+02:00
const TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?)? ?(Z|[+-]\d{2}(?::?\d{2})?)?$/i

/** The ISO instant a file's time stands for; undefined if it is not one, or lies in the future. */
export function timeOf (text: string, now: Date): string | undefined {
  const m = TIME.exec(text)
  if (!m) return undefined
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(3).replace(':', '') || '00'}`
  // Date accepts 2024-02-31 as 2 March: a day that does not exist is refused.
  if (new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d))).getUTCDate() !== Number(d)) return undefined
  const at = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac.slice(0, 4)}${offset}`)
  if (Number.isNaN(at.getTime()) || at.getUTCFullYear() < 1990 || at.getTime() > now.getTime() + 60_000) return undefined
  return at.toISOString()
}
