// Steps a user or staff member takes (sign up, confirm from the mail, read the export), and a wait for the outbox
// to go quiet so a test can assert that a mail did NOT arrive without sleeping for a guessed time.
import { sql } from 'drizzle-orm'
import { parse } from 'csv-parse/sync'
import type { Database } from '../../src/db/client.js'
import { json, staff, type TestApp } from './app.js'
import { linkIn, pathOf } from './mail.js'
import { mailsTo, waitForMailTo, type ReceivedMail } from './smtp.js'
import { waitUntil } from './wait.js'

/**
 * Resolves once no outbox message is waiting or being sent. A message is queued before the request that caused
 * it answers, and the sink records a mail before it replies 250, so after this every mail that will go out has
 * arrived: "no mail arrived" is then a fact, not a race.
 */
export async function outboxIdle (database: Database, timeoutMs = 10_000): Promise<void> {
  await waitUntil(async () => {
    const [row] = await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM outbox WHERE status IN ('pending', 'sending')`)
    return Number(row.n) === 0
  }, timeoutMs, () => 'the outbox to have nothing pending')
}

/** How many rows a table holds, for "nothing was stored" and "one row, not two". */
export async function rowCount (database: Database, table: 'subscribers' | 'outbox'): Promise<number> {
  const [row] = await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM ${sql.raw(table)}`)
  return Number(row.n)
}

export async function signUp (app: TestApp['app'], email: string, extra: Record<string, string> = {}) {
  const res = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email, ...extra }) })
  if (res.statusCode !== 202) throw new Error(`sign-up of ${email} answered ${res.statusCode}: ${res.body}`)
  return res
}

/**
 * Signs up, waits for the confirmation mail and presses its button (with these request headers): the address is
 * then confirmed. Returns the confirmation mail.
 */
export async function signUpAndConfirm (t: TestApp, email: string, extra: Record<string, string> = {},
  confirmHeaders: Record<string, string> = {}): Promise<ReceivedMail> {
  const before = mailsTo(t.smtp, email).length
  await signUp(t.app, email, extra)
  const mail = await waitForMailTo(t.smtp, email, before + 1)
  const res = await t.app.inject({ method: 'POST', url: pathOf(linkIn(mail, '/confirm/')), headers: { accept: 'application/json', ...confirmHeaders } })
  if (res.statusCode !== 200) throw new Error(`confirming ${email} answered ${res.statusCode}: ${res.body}`)
  return mail
}

/** CSV rows as objects keyed by the header row (csv-parse, strict RFC 4180). */
export function csvRecords (text: string): Record<string, string>[] {
  return parse(text, { columns: true, skip_empty_lines: true })
}

/** The staff export (status=all unless given) as objects keyed by column. */
export async function exportRows (app: TestApp['app'], query = 'status=all'): Promise<Record<string, string>[]> {
  const res = await app.inject({ url: `/admin/subscribers.csv?${query}`, headers: staff })
  if (res.statusCode !== 200) throw new Error(`export answered ${res.statusCode}: ${res.body}`)
  return csvRecords(res.body)
}

/** One subscriber's export row, found by address (case-insensitively), or undefined. */
export async function exportRowOf (app: TestApp['app'], email: string): Promise<Record<string, string> | undefined> {
  return (await exportRows(app)).find((r) => r.email.toLowerCase() === email.toLowerCase())
}
