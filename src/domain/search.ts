// The staff subscriber search: partial, case-insensitive matches on address or name, filters by status, list,
// source and sign-up date, newest first with keyset paging (no OFFSET: page 1,000 costs what page 1 does), and the
// count of matches up to SEARCH_COUNT_CAP. All of its SQL is here, so moving the status and list filters onto
// per-list subscriptions changes this file only.
import { sql, type SQL } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import type { SubscriberStatus } from '../db/schema.js'

/**
 * Counting stops here: an exact count of half a million matches costs a scan of them, and staff refine instead.
 * Measured on 1M rows (bench/search.mjs): counting to 10,000 took up to 400 ms for common matches, to 1,000 a tenth.
 */
export const SEARCH_COUNT_CAP = 1000

export interface SearchFilter {
  q?: string
  status?: SubscriberStatus
  list?: string
  source?: string
  /** Sign-up day, inclusive (YYYY-MM-DD, UTC). */
  since?: string
  /** Sign-up day, inclusive (YYYY-MM-DD, UTC). */
  until?: string
  limit: number
  cursor?: string
}

export interface SearchRow {
  publicId: string
  email: string
  name: string | null
  status: SubscriberStatus
  source: string | null
  signedUpAt: string
  confirmedAt: string | null
}

export interface SearchResult {
  subscribers: SearchRow[]
  /** Matches of the whole search (not just this page), at most SEARCH_COUNT_CAP. */
  count: number
  /** True when there are more matches than `count`. */
  countCapped: boolean
  /** Pass as `cursor` for the next page; absent on the last one. */
  nextCursor?: string
}

export class BadCursorError extends Error {}

/** `LIKE` pattern for a partial match: the search text is literal, its % and _ are not wildcards. */
export const containsPattern = (text: string): string => `%${text.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c)}%`

// The page's last row: its sign-up time as PostgreSQL prints it (microseconds kept: a JS Date would drop them and
// repeat rows) and its id, base64url JSON.
const encodeCursor = (at: string, id: number): string => Buffer.from(JSON.stringify([at, id])).toString('base64url')

function decodeCursor (cursor: string): [string, number] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && Number.isSafeInteger(value[1]) &&
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?\+00$/.test(value[0])) return [value[0], value[1]]
  } catch {}
  throw new BadCursorError('cursor is not one this search gave out: start again from the first page.')
}

/** Who has a subscription to the list (by slug), in `status` when given: the status is then that list's. */
const onList = (list: string, status: SubscriberStatus | undefined): SQL => sql`EXISTS (
  SELECT 1 FROM subscriptions p JOIN lists l ON l.id = p.list_id
  WHERE p.subscriber_id = s.id AND l.slug = ${list}${status ? sql` AND p.status = ${status}` : sql``})`

function conditions (f: SearchFilter): SQL[] {
  const where: SQL[] = []
  if (f.q) {
    const pattern = containsPattern(f.q)
    // Two trigram indexes (email_normalized, lower(name)); PostgreSQL combines them with a BitmapOr.
    where.push(sql`(s.email_normalized LIKE ${pattern} OR lower(s.name) LIKE ${pattern})`)
  }
  if (f.list) where.push(onList(f.list, f.status))
  else if (f.status) where.push(sql`s.status = ${f.status}`)
  if (f.source) where.push(sql`s.source = ${f.source}`)
  if (f.since) where.push(sql`s.signed_up_at >= ${f.since}::date::timestamptz`)
  if (f.until) where.push(sql`s.signed_up_at < (${f.until}::date + 1)::timestamptz`)
  return where
}

const and = (parts: SQL[]): SQL => parts.length === 0 ? sql`TRUE` : sql.join(parts, sql` AND `)

export async function searchSubscribers (database: Database, f: SearchFilter): Promise<SearchResult> {
  const where = conditions(f)
  const page = [...where]
  if (f.cursor) {
    const [at, id] = decodeCursor(f.cursor)
    page.push(sql`(s.signed_up_at, s.id) < (${at}::timestamptz, ${id})`)
  }
  const rows = await database.rows<{ id: number, at: string, public_id: string, email: string, name: string | null, status: SubscriberStatus, source: string | null, signed_up_at: string, confirmed_at: string | null }>(sql`
    SELECT s.id, (s.signed_up_at AT TIME ZONE 'UTC')::text || '+00' AS at, s.public_id, s.email, s.name, s.status::text AS status, s.source,
      to_char(s.signed_up_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS signed_up_at,
      to_char(s.confirmed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS confirmed_at
    FROM subscribers s WHERE ${and(page)}
    ORDER BY s.signed_up_at DESC, s.id DESC LIMIT ${f.limit + 1}`)
  // Counted in the page's order: recent matches are found first, where a plain scan from the oldest rows had to
  // read past every old row before finding a recent one.
  const [counted] = await database.rows<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM (SELECT 1 FROM subscribers s WHERE ${and(where)}
      ORDER BY s.signed_up_at DESC, s.id DESC LIMIT ${SEARCH_COUNT_CAP + 1}) m`)
  const more = rows.length > f.limit
  const shown = rows.slice(0, f.limit)
  const last = shown.at(-1)
  return {
    subscribers: shown.map((r) => ({
      publicId: r.public_id, email: r.email, name: r.name, status: r.status, source: r.source, signedUpAt: r.signed_up_at, confirmedAt: r.confirmed_at
    })),
    count: Math.min(Number(counted.n), SEARCH_COUNT_CAP),
    countCapped: Number(counted.n) > SEARCH_COUNT_CAP,
    nextCursor: more && last ? encodeCursor(last.at, Number(last.id)) : undefined
  }
}
