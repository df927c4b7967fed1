// Importing a list from a CSV file (Mailchimp, listmonk, a spreadsheet) into one list, shared by the CLI and the
// staff API. One transaction: the rows are streamed into a staging table with COPY, then a plan and one set-based
// statement decide and write every row; a failure or a killed process leaves the list as it was. A dry run does all
// of it and rolls back, so its report is the real one. Suppression wins (ICO direct marketing guidance: suppress, do
// not re-add): an erased address, or one that left the list, is never added back as pending or confirmed.
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { finished } from 'node:stream/promises'
import { sql } from 'drizzle-orm'
import type { CopyTransaction, Database } from '../db/client.js'
import { readImportFile, ImportError, type Columns, type ImportProblem, type ImportRow } from './import-csv.js'
import type { Actor } from './ledger.js'
import type { Lists } from './lists.js'
import { mailboxOf } from './mailbox.js'
import type { Secrets } from './secrets.js'
import { suppressionHashes } from './suppression.js'
import { newConfirmToken } from './tokens.js'
import { inEnglish, inLanguage, type Messages, type Said } from '../messages/index.js'

export { ImportError }

export interface ImportDeps {
  database: Database
  lists: Lists
  secrets: Secrets
  now: () => Date
  /** Domain part of the Message-IDs of confirmation mails. */
  messageIdDomain: string
  confirmTtlHours: number
}

export interface ImportOptions {
  list: string
  dryRun?: boolean
  /** Queue a confirmation mail for each subscription added as pending (default: send nothing). */
  sendConfirmations?: boolean
  /** How fast those mails go out: the outbox spreads them over time at this rate. */
  confirmationsPerMinute?: number
  /** The largest file taken, in bytes. */
  maxBytes?: number
}

export interface ImportReport {
  list: string
  dryRun: boolean
  file: { sha256: string, bytes: number }
  columns: Columns
  rows: { read: number, added: number, updated: number, unchanged: number, suppressed: number, invalid: number, duplicates: number }
  /** Rows the file called confirmed without a time of opt-in: imported as pending. */
  withoutEvidence: number
  confirmationsQueued: number
  /** The first 100 problems, by line. */
  problems: ImportProblem[]
}

/** An arbitrary constant: two imports into one list take turns. */
const IMPORT_LOCK_ID = 727_274_201
const MAX_PROBLEMS = 100
const COPY_CHUNK = 64 * 1024

/** The report as a reader sees it: each problem's reason in their language (English: the command line). */
export const reportIn = (m: Messages, report: ImportReport): ImportReport =>
  ({ ...report, problems: report.problems.map(({ said, ...p }) => ({ ...p, reason: said ? inLanguage(m, said) : p.reason })) })

class DryRun extends Error { constructor (readonly report: ImportReport) { super('dry run') } }

export async function importFile (deps: ImportDeps, input: AsyncIterable<Buffer>, options: ImportOptions,
  who: Actor): Promise<ImportReport> {
  const list = await deps.lists.bySlug(options.list)
  if (!list) throw new ImportError(404, 'not_found', { key: 'console.api.noList', vars: { slug: options.list } })
  if (list.archivedAt) throw new ImportError(400, 'list_archived', { key: 'console.api.listArchived', vars: { slug: list.slug } })
  const now = deps.now()
  const fileHash = createHash('sha256')
  let bytes = 0
  const maxBytes = options.maxBytes ?? Infinity
  async function * metered (): AsyncGenerator<Buffer> {
    for await (const chunk of input) {
      bytes += chunk.length
      if (bytes > maxBytes) throw new ImportError(413, 'file_too_large', { key: 'console.api.fileTooLarge', vars: { mb: Math.floor(maxBytes / 1e6) } })
      fileHash.update(chunk)
      yield chunk
    }
  }
  const problems: ImportProblem[] = []
  let invalid = 0
  try {
    return await deps.database.transaction(async (tx) => {
      await tx.rows(sql`SELECT pg_advisory_xact_lock(${IMPORT_LOCK_ID}, ${list.id}::int)`)
      // Room to sort and hash the file's rows in memory (the plan sorts by address) rather than on disk.
      await tx.rows(sql`SET LOCAL work_mem = '64MB'`)
      await tx.rows(sql.raw(STAGING))
      const send = Boolean(options.sendConfirmations)
      const { columns, read } = await stage(tx, metered(), now, deps.secrets, send, (p) => {
        invalid++
        if (problems.length < MAX_PROBLEMS) problems.push(p)
      })
      const sha256 = fileHash.digest('hex')
      const report = await apply(tx, deps, { listId: list.id, slug: list.slug, now, sha256, send, perMinute: options.confirmationsPerMinute ?? 60 }, who)
      const all = [...problems, ...report.problems].sort((a, b) => a.line - b.line).slice(0, MAX_PROBLEMS)
      const result: ImportReport = {
        list: list.slug,
        dryRun: Boolean(options.dryRun),
        file: { sha256, bytes },
        columns,
        rows: { read, ...report.rows, invalid },
        withoutEvidence: report.withoutEvidence,
        confirmationsQueued: report.confirmationsQueued,
        problems: all
      }
      // A dry run rolls back everything it did: the report is what the import would have done.
      if (options.dryRun) throw new DryRun(result)
      return result
    })
  } catch (err) {
    if (err instanceof DryRun) return err.report
    throw err
  }
}

const STAGING = `
  CREATE TEMP TABLE import_rows (
    line int, email text, email_normalized text, mailbox text, name text, status subscriber_status, source text,
    signed_up_at timestamptz, signup_ip inet, confirmed_at timestamptz, confirm_ip inet, unsubscribed_at timestamptz,
    no_evidence boolean, hash text, hash_previous text, token text, token_hash text
  ) ON COMMIT DROP`
const COPY_SQL = 'COPY import_rows FROM STDIN'

// COPY's text format: backslash, tab and line breaks escaped, \N for NULL.
const SPECIAL = /[\\\t\n\r]/
const escapeCopy = (v: string | null): string => v === null
  ? '\\N'
  : SPECIAL.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r') : v

async function stage (tx: CopyTransaction, input: AsyncIterable<Buffer>, now: Date, secrets: Secrets, send: boolean,
  onProblem: (p: ImportProblem) => void): Promise<{ columns: Columns, read: number }> {
  const copy = await tx.copyIn(COPY_SQL)
  // Its errors reach this function through write, drain and finished; a COPY given up ends the transaction anyway.
  copy.on('error', () => {})
  let buffer = ''
  const flush = async () => {
    const ok = copy.write(buffer)
    buffer = ''
    if (!ok) await once(copy, 'drain')
  }
  const onRow = (row: ImportRow) => {
    // Keyed hashes computed here: no secret reaches the database (see ./suppression.ts).
    const [hash, previous = null] = suppressionHashes(secrets, row.emailNormalized)
    const token = send && row.status === 'pending' ? newConfirmToken() : undefined
    buffer += [
      String(row.line), row.email, row.emailNormalized, mailboxOf(row.emailNormalized), row.name, row.status, row.source,
      row.signedUpAt, row.signupIp, row.confirmedAt, row.confirmIp, row.unsubscribedAt, row.noEvidence ? 't' : 'f',
      hash, previous, token?.token ?? null, token?.hash ?? null
    ].map(escapeCopy).join('\t') + '\n'
    if (buffer.length >= COPY_CHUNK) return flush()
  }
  try {
    const result = await readImportFile(input, now, onRow, onProblem)
    if (buffer) await flush()
    copy.end()
    await finished(copy)
    return result
  } catch (err) {
    copy.destroy(err as Error)
    throw err
  }
}

interface Applied {
  rows: { added: number, updated: number, unchanged: number, suppressed: number, duplicates: number }
  withoutEvidence: number
  confirmationsQueued: number
  problems: ImportProblem[]
}

async function apply (tx: CopyTransaction, deps: ImportDeps, run: {
  listId: number,
  slug: string,
  now: Date,
  sha256: string,
  send: boolean,
  perMinute: number
}, who: Actor): Promise<Applied> {
  const now = run.now.toISOString()
  const listId = run.listId
  // What happens to each row, decided once against the list as it is: the first row of an address wins.
  await tx.rows(sql`
    CREATE TEMP TABLE import_plan ON COMMIT DROP AS
    SELECT q.*, CASE WHEN q.outcome = 'added' AND q.status = 'pending'
      THEN row_number() OVER (PARTITION BY q.outcome = 'added' AND q.status = 'pending' ORDER BY q.line) END AS mail_rank
    FROM (
      SELECT r.*, s.id AS subscriber_id,
        CASE
          WHEN r.nth > 1 THEN 'duplicate'
          WHEN EXISTS (SELECT 1 FROM suppressions x WHERE x.email_hash IN (r.hash, r.hash_previous)) THEN 'erased'
          WHEN p.status = 'confirmed' THEN 'unchanged'
          WHEN p.status = 'unsubscribed' AND r.status <> 'unsubscribed' THEN 'left'
          WHEN p.status = 'unsubscribed' OR p.status = r.status THEN 'unchanged'
          WHEN p.status = 'pending' THEN 'updated'
          ELSE 'added'
        END AS outcome
      FROM (
        SELECT i.*, row_number() OVER w AS nth, first_value(i.line) OVER w AS first_line
        FROM import_rows i WINDOW w AS (PARTITION BY i.email_normalized ORDER BY i.line)
      ) r
      LEFT JOIN subscribers s ON s.email_normalized = r.email_normalized
      LEFT JOIN subscriptions p ON p.subscriber_id = s.id AND p.list_id = ${listId}::int
    ) q`)
  // Temporary tables are never analysed by autovacuum: without statistics the planner guesses their size badly.
  await tx.rows(sql`ANALYZE import_plan`)
  const spacing = `${60 / Math.max(1, run.perMinute)} seconds`
  const sendAt = sql`(${now}::timestamptz + (i.mail_rank - 1) * ${spacing}::interval)`
  const expires = sql`(${sendAt} + ${`${deps.confirmTtlHours} hours`}::interval)`
  const unsubscribedAt = sql`CASE WHEN i.status = 'unsubscribed' THEN coalesce(i.unsubscribed_at, ${now}::timestamptz) END`
  const unsubscribeMethod = sql`CASE WHEN i.status = 'unsubscribed' THEN 'import'::unsubscribe_method END`
  const signedUpAt = sql`coalesce(i.signed_up_at, i.confirmed_at, ${now}::timestamptz)`
  // A single opt-in (no separate confirmation in the file) is confirmed as of its opt-in; the ledger keeps the file's
  // own times as they were.
  const confirmedAt = sql`CASE WHEN i.status = 'confirmed' THEN coalesce(i.confirmed_at, i.signed_up_at) END`
  await tx.rows(sql`
    WITH fresh AS (
      -- With the status and membership keys its one subscription gives it: the trigger on subscriptions then has
      -- nothing to rewrite (it rewrote every new row, the slowest part of the import bench).
      INSERT INTO subscribers AS s (email, email_normalized, mailbox, name, status, source, signed_up_at, signup_ip, confirmed_at,
        confirm_ip, unsubscribed_at, unsubscribe_method, confirm_token_hash, confirm_token_expires_at, created_at, updated_at,
        memberships)
      SELECT i.email, i.email_normalized, i.mailbox, i.name, i.status, i.source, ${signedUpAt}, i.signup_ip, ${confirmedAt},
        i.confirm_ip, ${unsubscribedAt}, ${unsubscribeMethod},
        CASE WHEN i.mail_rank IS NOT NULL THEN i.token_hash END, CASE WHEN i.mail_rank IS NOT NULL THEN ${expires} END,
        ${now}, ${now}, subscription_keys(${listId}::int, i.status)
      FROM import_plan i WHERE i.outcome = 'added' AND i.subscriber_id IS NULL
      ORDER BY i.email_normalized
      -- Someone who signed up while the file was read: their row is used, as it is.
      ON CONFLICT (email_normalized) DO UPDATE SET updated_at = s.updated_at
      RETURNING s.id, s.email_normalized
    ), written AS (
      SELECT coalesce(i.subscriber_id, f.id) AS sid, i.*
      FROM import_plan i LEFT JOIN fresh f ON i.subscriber_id IS NULL AND f.email_normalized = i.email_normalized
      WHERE i.outcome IN ('added', 'updated')
    ), subscribed AS (
      INSERT INTO subscriptions AS p (subscriber_id, list_id, status, signed_up_at, signup_ip, confirmed_at, confirm_ip,
        unsubscribed_at, unsubscribe_method, updated_at)
      SELECT i.sid, ${listId}::int, i.status, ${signedUpAt}, i.signup_ip, ${confirmedAt}, i.confirm_ip, ${unsubscribedAt},
        ${unsubscribeMethod}, ${now}
      FROM written i ORDER BY i.sid
      ON CONFLICT (subscriber_id, list_id) DO UPDATE SET status = excluded.status, signed_up_at = excluded.signed_up_at,
        signup_ip = excluded.signup_ip, confirmed_at = excluded.confirmed_at, confirm_ip = excluded.confirm_ip,
        unsubscribed_at = excluded.unsubscribed_at, unsubscribe_method = excluded.unsubscribe_method,
        updated_at = excluded.updated_at
      -- Never a downgrade: only a subscription still waiting for its confirmation is changed.
      WHERE p.status = 'pending'
      RETURNING p.subscriber_id
    ), ledger AS (
      INSERT INTO consent_events (occurred_at, subscriber_id, list_id, type, ip, user_agent, method, details)
      SELECT ${now}, i.sid, ${listId}::int, 'import', ${who.ip ?? null}, ${who.userAgent ?? null}, ${who.method},
        jsonb_strip_nulls(jsonb_build_object('actor', ${who.actor}::text, 'list', ${run.slug}::text,
          'file', ${run.sha256}::text, 'row', i.line, 'status', i.status, 'source', i.source,
          'signedUpAt', i.signed_up_at, 'signupIp', host(i.signup_ip), 'confirmedAt', i.confirmed_at,
          'confirmIp', host(i.confirm_ip), 'unsubscribedAt', i.unsubscribed_at,
          'noEvidence', CASE WHEN i.no_evidence THEN true END))
      FROM written i
    ), tokened AS (
      UPDATE subscribers s SET confirm_token_hash = i.token_hash, confirm_token_expires_at = ${expires}
      FROM import_plan i WHERE i.mail_rank IS NOT NULL AND i.subscriber_id IS NOT NULL AND s.id = i.subscriber_id
    ), mail AS (
      INSERT INTO outbox (subscriber_id, kind, message_id, payload, next_attempt_at, created_at)
      SELECT i.sid, 'confirmation', '<' || gen_random_uuid() || '@' || ${deps.messageIdDomain}::text || '>',
        jsonb_build_object('token', i.token, 'lists', jsonb_build_array(${listId}::int)), ${sendAt}, ${now}
      FROM written i WHERE i.mail_rank IS NOT NULL
    )
    SELECT 1`)
  const counts = await tx.rows<{ outcome: string, n: number, no_evidence: number, mails: number }>(sql`
    SELECT outcome, count(*)::int AS n, count(*) FILTER (WHERE no_evidence)::int AS no_evidence,
      count(mail_rank)::int AS mails
    FROM import_plan GROUP BY outcome`)
  const n = (...outcomes: string[]) => counts.filter((c) => outcomes.includes(c.outcome)).reduce((t, c) => t + Number(c.n), 0)
  const listed = await tx.rows<{ line: number, outcome: string, first_line: number }>(sql`
    SELECT line, outcome, first_line FROM import_plan WHERE outcome IN ('duplicate', 'erased', 'left')
    ORDER BY line LIMIT ${MAX_PROBLEMS}`)
  return {
    rows: { added: n('added'), updated: n('updated'), unchanged: n('unchanged'), suppressed: n('erased', 'left'), duplicates: n('duplicate') },
    withoutEvidence: counts.filter((c) => c.outcome === 'added' || c.outcome === 'updated').reduce((t, c) => t + Number(c.no_evidence), 0),
    confirmationsQueued: run.send ? counts.reduce((t, c) => t + Number(c.mails), 0) : 0,
    problems: listed.map((p) => {
      const said: Said = p.outcome === 'duplicate'
        ? { key: 'console.importProblems.duplicate', vars: { line: Number(p.first_line) } }
        : { key: p.outcome === 'erased' ? 'console.importProblems.erased' : 'console.importProblems.left' }
      return { line: Number(p.line), column: 'email', reason: inEnglish(said), said }
    })
  }
}
