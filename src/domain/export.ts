// The staff CSV export: one streaming COPY, formatted entirely in SQL so it runs at the speed of COPY.
// Columns are a contract (tools import them by name and place); cells a spreadsheet would evaluate are neutralised
// (OWASP CSV Injection).
import type { CopyStream, Database } from '../db/client.js'
import { isoText } from '../db/sql.js'
import { subscriberStatus } from '../db/schema.js'

export const EXPORT_STATUSES = [...subscriberStatus.enumValues, 'all'] as const
export type ExportStatus = typeof EXPORT_STATUSES[number]

export interface ExportFilter { status: ExportStatus, since?: Date }

// No sign-up is older; and PostgreSQL refuses some dates JavaScript accepts (year 0, years past 9999), which
// would fail the export after its ledger row was written.
const EARLIEST_SINCE = new Date('1970-01-01T00:00:00Z')

/** What is wrong with a `since` filter, in words for staff, or undefined when it is from 1970-01-01 up to now. */
export function sinceOutOfRange (since: Date, now: Date): string | undefined {
  if (since >= EARLIEST_SINCE && since <= now) return undefined
  return `since must be from 1970-01-01 up to now (${now.toISOString()}), such as 2026-01-31 or 2026-01-31T00:00:00Z.`
}

// OWASP CSV injection: prefix ' to cells starting with = + - @ TAB CR LF.
const neutral = (col: string) =>
  `CASE WHEN left(${col}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r', E'\\n') THEN '''' || ${col} ELSE ${col} END`
const setting = (name: string) => `current_setting('joinlist.${name}')`

// The same link as every mail carries: unsubscribeToken() in tokens.ts, from the row's own secret.
const unsubscribeUrl = `${setting('base')} || '/unsubscribe/' || public_id || '.' || unsubscribe_secret`

const COLUMNS = [
  `${neutral('email')} AS email`,
  `${neutral('name')} AS name`,
  'status',
  `${neutral('source')} AS source`,
  `${isoText('signed_up_at')} AS signed_up_at`,
  'host(signup_ip) AS signup_ip',
  `${neutral('signup_user_agent')} AS signup_user_agent`,
  `${isoText('confirmed_at')} AS confirmed_at`,
  'host(confirm_ip) AS confirm_ip',
  `${isoText('unsubscribed_at')} AS unsubscribed_at`,
  `${unsubscribeUrl} AS unsubscribe_url`,
  // Added after the contract's columns: the consent text (GET /admin/consent-texts/:version) seen.
  'consent_text_version'
]

/** The COPY statement for a filter. Constant text apart from the chosen WHERE clauses; values are settings. */
export function exportSql (filter: ExportFilter): string {
  const where: string[] = []
  if (filter.status !== 'all') where.push(`status = ${setting('status')}::subscriber_status`)
  if (filter.since) where.push(`signed_up_at >= ${setting('since')}::timestamptz`)
  return `COPY (SELECT ${COLUMNS.join(', ')} FROM subscribers` +
    `${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)`
}

export function exportSubscribers (database: Database, publicUrl: string, filter: ExportFilter): Promise<CopyStream> {
  return database.copyOut(exportSql(filter), {
    base: publicUrl,
    status: filter.status,
    since: filter.since?.toISOString() ?? ''
  })
}
