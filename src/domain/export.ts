// The staff CSV export: one streaming COPY, formatted entirely in SQL so it runs at the speed of COPY.
// Columns are a contract (tools import them by name and place); cells a spreadsheet would evaluate are neutralised
// (OWASP CSV Injection).
import { sql } from 'drizzle-orm'
import type { CopyStream, Database } from '../db/client.js'
import { isoText } from '../db/sql.js'
import { subscriberStatus } from '../db/schema.js'
import { ListError } from './lists.js'

export const EXPORT_STATUSES = [...subscriberStatus.enumValues, 'all'] as const
export type ExportStatus = typeof EXPORT_STATUSES[number]

export interface ExportFilter {
  status: ExportStatus
  since?: Date
  /** List slugs: one row per subscription on these lists, with that subscription's status and consent columns. */
  lists?: string[]
}

// No sign-up is older; and PostgreSQL refuses some dates JavaScript accepts (year 0, years past 9999), which
// would fail the export after its ledger row was written.
const EARLIEST_SINCE = new Date('1970-01-01T00:00:00Z')

/** What is wrong with a `since` filter, in words for staff, or undefined when it is from 1970-01-01 up to now. */
export function sinceOutOfRange (since: Date, now: Date): string | undefined {
  if (since >= EARLIEST_SINCE && since <= now) return undefined
  return `since must be from 1970-01-01 up to now (${now.toISOString()}), such as 2026-01-31 or 2026-01-31T00:00:00Z.`
}

// OWASP CSV injection: prefix ' to cells starting with = + - @ TAB CR LF.
// Compared by code point (= + - @ TAB CR LF): a number per row, where a one-character string was measurably slower;
// all seven are below 65 ('A'), so a cell starting with a letter is settled by one comparison instead of seven.
const neutral = (col: string) =>
  `CASE WHEN ascii(${col}) < 65 AND ascii(${col}) IN (61, 43, 45, 64, 9, 13, 10) THEN '''' || ${col} ELSE ${col} END`
// A subquery, so PostgreSQL reads the setting once per export rather than once per row.
const setting = (name: string) => `(SELECT current_setting('joinlist.${name}'))`

/**
 * The same text as isoText() (ISO 8601 UTC, milliseconds truncated, "Z"), at about two thirds of to_char()'s cost,
 * which formats each field with sprintf: the three times were a quarter of PostgreSQL's time for the export. Built on
 * the timestamp's own output with TimeZone UTC (copyOut sets it): cast to timestamptz(3), which rounds to the nearest
 * millisecond, 500 µs earlier, which truncates for times after 2000-01-01 (PostgreSQL's epoch; it rounds away from
 * zero before it); one microsecond more makes the output always end in `.mmm001+00`, which becomes `.mmmZ`. Other
 * times, and NULL, go to to_char().
 */
const isoUtc = (col: string) =>
  `CASE WHEN ${col} > '2000-01-01 00:00:00Z' AND ${col} < '10000-01-01 00:00:00Z' THEN replace(replace(` +
  `((${col} - interval '500 microseconds')::timestamptz(3) + interval '1 microsecond')::text, '001+00', 'Z'), ' ', 'T') ` +
  `ELSE ${isoText(col)} END`

// The same link as every mail carries: unsubscribeToken() in tokens.ts, from the row's own secret. Its prefix is
// joined once per export, in the subquery.
const unsubscribeUrl = "(SELECT current_setting('joinlist.base') || '/unsubscribe/') || s.public_id || '.' || s.unsubscribe_secret"

/** The columns, in the contract's order. `p` is the subscription when exporting lists, else the subscriber. */
const columns = (p: 's' | 'p', lists: string) => [
  `${neutral('s.email')} AS email`,
  `${neutral('s.name')} AS name`,
  `${p}.status`,
  `${neutral('s.source')} AS source`,
  `${isoUtc(`${p}.signed_up_at`)} AS signed_up_at`,
  `host(${p}.signup_ip) AS signup_ip`,
  `${neutral(`${p}.signup_user_agent`)} AS signup_user_agent`,
  `${isoUtc(`${p}.confirmed_at`)} AS confirmed_at`,
  `host(${p}.confirm_ip) AS confirm_ip`,
  `${isoUtc(`${p}.unsubscribed_at`)} AS unsubscribed_at`,
  `${unsubscribeUrl} AS unsubscribe_url`,
  // Added after the contract's columns: the consent text (GET /admin/consent-texts/:version) seen, and the lists.
  `${p}.consent_text_version`,
  lists
]

/** Subscriber ids per part of an export (see exportParts). */
export const PART_IDS = 10_000

/** One part of an export: the subscribers with ids from..to, and whether it starts the file (with the header). */
export interface ExportPart { from: number, to: number, first: boolean }

const copy = (select: string, part?: ExportPart) =>
  `COPY (${select}) TO STDOUT WITH (FORMAT csv${!part || part.first ? ', HEADER' : ''})`

function where (p: 's' | 'p', filter: ExportFilter, part: ExportPart | undefined, extra: string[] = []): string {
  const clauses = [...extra]
  const id = p === 's' ? 's.id' : 'p.subscriber_id'
  // Integers this module computed: safe in the statement's text (COPY takes no bind parameters).
  if (part) clauses.push(`${id} BETWEEN ${Math.trunc(part.from)} AND ${Math.trunc(part.to)}`)
  if (filter.status !== 'all') clauses.push(`${p}.status = ${setting('status')}::subscriber_status`)
  if (filter.since) clauses.push(`${p}.signed_up_at >= ${setting('since')}::timestamptz`)
  return clauses.length ? ` WHERE ${clauses.join(' AND ')}` : ''
}

/**
 * The COPY statement for a filter. Constant text apart from the chosen WHERE clauses; values are settings.
 * - `lists` given: a row per subscription on those lists, with a `list` column (its slug).
 * - Otherwise a row per subscriber, with a `lists` column: the lists they are confirmed on, space-separated. With one
 *   list in the deployment that is its slug for a confirmed subscriber, and no join is needed.
 */
export function exportSql (filter: ExportFilter, oneList: boolean, part?: ExportPart): string {
  if (filter.lists?.length) {
    return copy(`SELECT ${columns('p', 'l.slug AS list').join(', ')}
      FROM subscriptions p JOIN subscribers s ON s.id = p.subscriber_id JOIN lists l ON l.id = p.list_id` +
      `${where('p', filter, part, [`p.list_id = ANY(${setting('lists')}::int[])`])} ORDER BY p.subscriber_id, p.list_id`, part)
  }
  const lists = oneList
    ? `CASE WHEN s.status = 'confirmed' THEN ${setting('slug')} ELSE '' END AS lists`
    : `(SELECT coalesce(string_agg(l.slug, ' ' ORDER BY l.slug), '') FROM subscriptions p JOIN lists l ON l.id = p.list_id
        WHERE p.subscriber_id = s.id AND p.status = 'confirmed') AS lists`
  return copy(`SELECT ${columns('s', lists).join(', ')} FROM subscribers s${where('s', filter, part)} ORDER BY s.id`, part)
}

/**
 * The export in parts by subscriber id, each PART_IDS ids wide, whose outputs joined in order are the file: the
 * database runs two at once (see copyOut). Subscribers who sign up once the export has begun are not in it.
 */
export function exportParts (from: number, to: number): ExportPart[] {
  const parts: ExportPart[] = []
  for (let start = from; start <= to; start += PART_IDS) {
    parts.push({ from: start, to: Math.min(start + PART_IDS - 1, to), first: start === from })
  }
  return parts
}

/** Streams the export; a list slug that does not exist is refused (400) before anything runs. */
export async function exportSubscribers (database: Database, publicUrl: string, filter: ExportFilter): Promise<CopyStream> {
  const lists = await database.rows<{ id: number, slug: string }>(sql`SELECT id, slug FROM lists ORDER BY id`)
  const unknown = (filter.lists ?? []).filter((slug) => !lists.some((l) => l.slug === slug))
  if (unknown.length) {
    throw new ListError(400, 'unknown_list', `No list has the slug ${unknown.map((u) => `"${u}"`).join(', ')}; the lists are ${lists.map((l) => l.slug).join(', ')}.`)
  }
  const oneList = lists.length === 1
  const [ids] = await database.rows<{ from: string | null, to: string | null }>(sql`SELECT min(id) AS from, max(id) AS to FROM subscribers`)
  const parts = ids.from === null ? [exportSql(filter, oneList)] : exportParts(Number(ids.from), Number(ids.to)).map((part) => exportSql(filter, oneList, part))
  return await database.copyOut(parts, {
    base: publicUrl,
    status: filter.status,
    since: filter.since?.toISOString() ?? '',
    lists: `{${lists.filter((l) => filter.lists?.includes(l.slug)).map((l) => l.id).join(',')}}`,
    slug: lists[0]?.slug ?? ''
  })
}
