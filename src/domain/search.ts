// The staff subscriber search: partial, case-insensitive matches on address or name, filters by status, list,
// source and sign-up date, newest first with keyset paging (no OFFSET: page 1,000 costs what page 1 does), and the
// count of matches up to SEARCH_COUNT_CAP. All of its SQL is here.
import { sql, type SQL } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import type { Lists } from './lists.js'
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

/**
 * Who has a subscription to the list, in `status` when given: the status is then that list's. Through the
 * subscriber's membership keys (kept from subscriptions by a trigger, see subscription_keys() in the migrations),
 * which are in the search's GIN index with the other filters. A key most subscribers have is checked on the rows
 * the other filters find instead: intersecting it in the index reads its whole posting list (a list everyone is on,
 * with a name fragment and a source: 24–28 ms to count, against 14 ms checked on the rows, on the 1M bench).
 */
const onList = (key: string, common: boolean): SQL =>
  common ? sql`${key} = ANY(s.memberships)` : sql`s.memberships @> ARRAY[${key}]::text[]`

/** A membership key held by more than this share of subscribers is checked on rows, not in the index. */
const COMMON_KEY_SHARE = 0.5
const SHARES_TTL_MS = 60_000
const sharesCache = new WeakMap<Database, { at: number, shares: Promise<Map<string, number>> }>()

/**
 * The share of subscribers holding each common membership key, from PostgreSQL's own statistics (ANALYZE keeps the
 * most common elements of an array column with their frequencies), read at most once a minute. Empty before the
 * first ANALYZE: every key then goes through the index.
 */
function keyShares (database: Database): Promise<Map<string, number>> {
  const cached = sharesCache.get(database)
  if (cached && Date.now() - cached.at < SHARES_TTL_MS) return cached.shares
  const shares = database.rows<{ key: string, share: number }>(sql`
    SELECT x.key, x.share FROM pg_stats st,
      unnest(st.most_common_elems::text::text[], st.most_common_elem_freqs) AS x(key, share)
    WHERE st.schemaname = current_schema() AND st.tablename = 'subscribers' AND st.attname = 'memberships'
      AND x.key IS NOT NULL`)
    .then((rows) => new Map(rows.map((r) => [r.key, Number(r.share)])))
  sharesCache.set(database, { at: Date.now(), shares })
  shares.catch(() => sharesCache.delete(database))
  return shares
}

/**
 * The search's conditions: `range` bounds the sign-up time (a range of the newest-first index, which the walk
 * starts from), `filters` are the rest.
 */
function conditions (f: SearchFilter, list: { key: string, common: boolean } | undefined): { filters: SQL[], range: SQL[] } {
  const where: SQL[] = []
  const range: SQL[] = []
  if (f.q) {
    const pattern = containsPattern(f.q)
    // Both trigram columns are in the search's GIN index; PostgreSQL combines the two scans with a BitmapOr.
    where.push(sql`(s.email_normalized LIKE ${pattern} OR lower(s.name) LIKE ${pattern})`)
  }
  if (list) where.push(onList(list.key, list.common))
  else if (f.status) where.push(sql`s.status = ${f.status}`)
  if (f.source) where.push(sql`s.source = ${f.source}`)
  if (f.since) range.push(sql`s.signed_up_at >= ${f.since}::date::timestamptz`)
  if (f.until) range.push(sql`s.signed_up_at < (${f.until}::date + 1)::timestamptz`)
  return { filters: where, range }
}

const and = (parts: SQL[]): SQL => parts.length === 0 ? sql`TRUE` : sql.join(parts, sql` AND `)

/**
 * How many of the newest subscribers a search looks through first. Matches are found either by walking the sign-ups
 * newest first until enough match, which is quick when matches are common, or by gathering every match through the
 * indexes and sorting them, which is quick when they are few. Which one is quick depends on how often the filters
 * match together, which the planner can only guess (it takes the filters as independent: on the search bench's 1M
 * rows, a name fragment whose every match had another status made it walk the whole table, 1.2 s). So the walk is
 * tried on this many rows first (the newest in the sign-up date range, when one is given), and the matches are
 * gathered only when the walk found too few: then they are rare.
 */
export const SEARCH_WINDOW = 20_000

const PAGE_COLUMNS = sql`s.id, (s.signed_up_at AT TIME ZONE 'UTC')::text || '+00' AS at, s.public_id, s.email, s.name,
  s.status::text AS status, s.source,
  to_char(s.signed_up_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS signed_up_at,
  to_char(s.confirmed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS confirmed_at`

const NEWEST_FIRST = sql`ORDER BY s.signed_up_at DESC, s.id DESC`

interface PageRow { id: number, at: string, public_id: string, email: string, name: string | null, status: SubscriberStatus, source: string | null, signed_up_at: string, confirmed_at: string | null }

function cursorCondition (cursor: string): SQL {
  const [at, id] = decodeCursor(cursor)
  return sql`(s.signed_up_at, s.id) < (${at}::timestamptz, ${id})`
}

/**
 * Every match gathered through the indexes (MATERIALIZED: planned for all of them, not as a walk that stops early),
 * as `m`, and its count up to SEARCH_COUNT_CAP + 1.
 */
const gathered = (where: SQL[]) => sql`WITH m AS MATERIALIZED (SELECT s.id, s.signed_up_at FROM subscribers s WHERE ${and(where)})`
const GATHERED_COUNT = sql`(SELECT count(*)::int FROM (SELECT 1 FROM m LIMIT ${SEARCH_COUNT_CAP + 1}) c)`

/** The newest SEARCH_WINDOW sign-ups within `range`; `numbered`: each with its place among them (`nth`, from 1). */
const newestIn = (range: SQL[], numbered = false) =>
  sql`(SELECT *${numbered ? sql`, row_number() OVER (${NEWEST_FIRST}) AS nth` : sql``} FROM subscribers s
    ${range.length ? sql`WHERE ${and(range)}` : sql``} ${NEWEST_FIRST} LIMIT ${SEARCH_WINDOW}) s`

/**
 * The newest `limit` matches within `range`: walked in the newest rows first, else gathered (see SEARCH_WINDOW).
 * A gathered page also counts its matches (up to SEARCH_COUNT_CAP + 1) from the same gathered rows.
 */
async function newestMatches (database: Database, filters: SQL[], range: SQL[], limit: number): Promise<{ rows: PageRow[], gatheredCount?: number, sparse?: boolean }> {
  const walked = await database.rows<PageRow & { nth: number }>(sql`
    SELECT ${PAGE_COLUMNS}, s.nth FROM ${newestIn(range, true)}
    WHERE ${and(filters)} ${NEWEST_FIRST} LIMIT ${limit}`, { planEachTime: true })
  // A page found among the newest rows tells how often they match: at this rate, would the whole window hold fewer
  // than half the count's cap? Then walking it to count would only lead to gathering anyway.
  if (walked.length === limit) return { rows: walked, sparse: limit * SEARCH_WINDOW / Number(walked[limit - 1].nth) < SEARCH_COUNT_CAP / 2 }
  // Fewer than a page among the newest rows: gather every match, then take the newest.
  const rows = await database.rows<PageRow & { n: number }>(sql`
    ${gathered([...filters, ...range])}
    SELECT ${PAGE_COLUMNS}, ${GATHERED_COUNT} AS n
    FROM subscribers s
    WHERE s.id IN (SELECT s.id FROM m s ${NEWEST_FIRST} LIMIT ${limit})
    ${NEWEST_FIRST}`, { planEachTime: true })
  return { rows, gatheredCount: rows.length === 0 ? 0 : Number(rows[0].n) }
}

/**
 * Matches of the whole search, counted up to SEARCH_COUNT_CAP + 1: in the newest rows first, then everywhere; straight
 * away everywhere when the page's walk found matches sparse.
 */
async function countWalkedFirst (database: Database, filters: SQL[], range: SQL[], sparse: boolean): Promise<number> {
  if (sparse) return await countGathered(database, [...filters, ...range])
  const [walked] = await database.rows<{ n: number, seen: number }>(sql`
    SELECT (count(*) FILTER (WHERE ${and(filters)}))::int AS n, count(*)::int AS seen FROM ${newestIn(range)}`, { planEachTime: true })
  // Fewer rows than the window: it held every sign-up in the range, and the count is exact.
  if (walked.n > SEARCH_COUNT_CAP || walked.seen < SEARCH_WINDOW) return walked.n
  return await countGathered(database, [...filters, ...range])
}

async function countGathered (database: Database, where: SQL[]): Promise<number> {
  const [row] = await database.rows<{ n: number }>(sql`${gathered(where)} SELECT ${GATHERED_COUNT} AS n`, { planEachTime: true })
  return row.n
}

export async function searchSubscribers (database: Database, lists: Lists, f: SearchFilter): Promise<SearchResult> {
  const list = f.list === undefined ? undefined : await lists.bySlug(f.list)
  if (f.list !== undefined && !list) return { subscribers: [], count: 0, countCapped: false }
  const key = list && (f.status ? `${list.id}:${f.status}` : String(list.id))
  const { filters, range } = conditions(f, key ? { key, common: ((await keyShares(database)).get(key) ?? 0) > COMMON_KEY_SHARE } : undefined)
  const after = f.cursor ? [cursorCondition(f.cursor)] : []
  const { rows, gatheredCount, sparse = false } = await newestMatches(database, filters, [...range, ...after], f.limit + 1)
  // A first page that gathered its matches has counted them too.
  const counted = gatheredCount !== undefined && !f.cursor ? gatheredCount : await countWalkedFirst(database, filters, range, sparse)
  const more = rows.length > f.limit
  const shown = rows.slice(0, f.limit)
  const last = shown.at(-1)
  return {
    subscribers: shown.map((r) => ({
      publicId: r.public_id, email: r.email, name: r.name, status: r.status, source: r.source, signedUpAt: r.signed_up_at, confirmedAt: r.confirmed_at
    })),
    count: Math.min(counted, SEARCH_COUNT_CAP),
    countCapped: counted > SEARCH_COUNT_CAP,
    nextCursor: more && last ? encodeCursor(last.at, Number(last.id)) : undefined
  }
}
