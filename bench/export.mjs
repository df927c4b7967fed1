// Export bench: seed 100k then 1M subscribers with generate_series, then time GET /admin/subscribers.csv?status=all
// to the end of the body against psql's \copy of the stored columns as they are (the physical limit: one plain
// COPY of the same rows), record the server's peak RSS meanwhile, and check the export is the list in valid CSV.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import http from 'node:http'
import { pipeline } from 'node:stream/promises'
import { parse } from 'csv-parse'
import { ADMIN_TOKEN, appEnv, freePort, peakRss, root, sleep, startNode, stopChild, waitFor200 } from './lib.mjs'

// The export's columns as stored: no formatting, no neutralising, no unsubscribe link.
const STORED_COLUMNS = 'email, name, status, source, signed_up_at, signup_ip, signup_user_agent, confirmed_at, confirm_ip, ' +
  'unsubscribed_at, consent_text_version'
const EXPORT_HEADER = 'email,name,status,source,signed_up_at,signup_ip,signup_user_agent,confirmed_at,confirm_ip,' +
  'unsubscribed_at,unsubscribe_url,consent_text_version,lists'

/** Adds subscribers with ids from..to: every status, names that need quoting or neutralising, IPs, user agents. */
export async function seed (sql, from, to) {
  await sql`
    INSERT INTO subscribers (email, email_normalized, mailbox, name, status, source, signed_up_at, signup_ip, signup_user_agent,
      confirmed_at, confirm_ip, unsubscribed_at)
    SELECT 'Seed.' || g || '@Example.com', 'seed.' || g || '@example.com', 'seed.' || g || '@example.com',
      CASE WHEN g % 10 = 0 THEN '=HYPERLINK("http://x", "y")' WHEN g % 3 = 0 THEN NULL ELSE 'Name, "' || g || '"' END,
      (ARRAY['pending', 'confirmed', 'unsubscribed'])[g % 3 + 1]::subscriber_status,
      CASE WHEN g % 2 = 0 THEN 'footer' END,
      timestamptz '2026-01-01 00:00:00.123Z' + g * interval '1 second',
      ('192.0.2.' || (g % 250))::inet,
      'Mozilla/5.0 (X11; Linux x86_64) bench/' || g,
      CASE WHEN g % 3 <> 0 THEN timestamptz '2026-02-01 00:00:00Z' + g * interval '1 second' END,
      CASE WHEN g % 3 <> 0 THEN '2001:db8::1'::inet END,
      CASE WHEN g % 3 = 2 THEN timestamptz '2026-03-01 00:00:00Z' + g * interval '1 second' END
    FROM generate_series(${from}::int, ${to}::int) g`
  await sql`ANALYZE subscribers`
}

function exportRequest (port, onResponse, reject) {
  const req = http.get({ host: '127.0.0.1', port, path: '/admin/subscribers.csv?status=all', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, (res) => {
    if (res.statusCode !== 200) { reject(new Error(`export answered ${res.statusCode}`)); res.resume(); return }
    onResponse(res)
  })
  req.on('error', reject)
}

/** The timed download: only what the client must do anyway (count and hash the bytes). */
function httpExport (port) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const hash = createHash('sha256')
    let bytes = 0
    exportRequest(port, (res) => {
      res.on('data', (c) => { bytes += c.length; hash.update(c) })
      res.on('end', () => resolve({ ms: performance.now() - started, bytes, sha256: hash.digest('hex') }))
      res.on('error', reject)
    }, reject)
  })
}

/**
 * An untimed second download read by a strict RFC 4180 parser (csv-parse): the header, 12 fields in every record,
 * one record per stored subscriber in id order (the seed's addresses), and the same bytes as the timed download.
 */
function checkedExport (port, rows) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    let records = 0
    let problem
    const note = (what) => { problem ??= what }
    const recordProblem = (record, i) => i === 0
      ? (record.join(',') === EXPORT_HEADER ? undefined : `the header is ${record.join(',')}`)
      : (record[0] === `Seed.${i}@Example.com` ? undefined : `record ${i} is ${record[0]}`)
    exportRequest(port, (res) => {
      res.on('data', (c) => hash.update(c))
      const parser = parse({ relax_column_count: false })
      parser.on('data', (record) => { note(recordProblem(record, records)); records++ })
      pipeline(res, parser).then(() => {
        if (records - 1 !== rows) note(`${records - 1} records for ${rows} subscribers`)
        resolve({ sha256: hash.digest('hex'), records: records - 1, problem })
      }, reject)
    }, reject)
  })
}

function psqlExport (databaseUrl) {
  const copy = `\\copy (SELECT ${STORED_COLUMNS} FROM subscribers ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)`
  return new Promise((resolve, reject) => {
    const started = performance.now()
    // The same work on the bytes as the HTTP client's: count and hash.
    const hash = createHash('sha256')
    let bytes = 0
    let stderr = ''
    const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', databaseUrl, '-c', copy],
      { env: { ...process.env, PGOPTIONS: '-c TimeZone=UTC' }, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.on('data', (c) => { bytes += c.length; hash.update(c) })
    child.stderr.on('data', (c) => { stderr += c })
    child.on('error', reject)
    child.on('close', (code) => code === 0
      ? resolve({ ms: performance.now() - started, bytes })
      : reject(new Error(`psql exited ${code}: ${stderr.trim()}`)))
  })
}

/** The row count the consent ledger holds for the latest export (written just after its body ends). */
async function ledgerRows (sql) {
  for (let tries = 0; ; tries++) {
    const [event] = await sql`SELECT (details->>'rows')::int AS rows FROM consent_events WHERE type = 'export' ORDER BY id DESC LIMIT 1`
    if (event?.rows != null || tries === 50) return event?.rows
    await sleep(100)
  }
}

async function compare (db, port, pid, rows, log) {
  log(`export: ${rows} rows, psql \\copy of the stored columns`)
  const psql = await psqlExport(db.url)
  log(`export: ${rows} rows, GET /admin/subscribers.csv?status=all`)
  const { result: api, peakMb, beforeMb } = await peakRss(pid, () => httpExport(port))
  log(`export: ${rows} rows, checking the CSV (untimed)`)
  const checked = await checkedExport(port, rows)
  const ledger = await ledgerRows(db.sql)
  const problems = [checked.problem, checked.sha256 !== api.sha256 && 'the checked download differs from the timed one',
    ledger !== rows && `the consent ledger says ${ledger} rows`].filter(Boolean)
  for (const problem of problems) log(`export: ${rows} rows: ${problem}`)
  return {
    rows,
    psqlMs: psql.ms,
    psqlBytes: psql.bytes,
    httpMs: api.ms,
    ratio: api.ms / psql.ms,
    bytes: api.bytes,
    csvRecords: checked.records,
    validCsv: problems.length === 0,
    serverRssBeforeMb: beforeMb,
    serverPeakRssMb: peakMb
  }
}

export async function exportBench ({ db, log, sizes = [100_000, 1_000_000] }) {
  await db.sql`TRUNCATE subscribers, outbox RESTART IDENTITY CASCADE`
  const port = await freePort()
  const app = startNode(`${root}dist/server.js`, appEnv(port, db.url), { label: 'export' })
  await waitFor200(`http://127.0.0.1:${port}/readyz`, app.child)
  const results = []
  try {
    let have = 0
    for (const size of sizes) {
      log(`export: seeding to ${size} subscribers`)
      const t = performance.now()
      await seed(db.sql, have + 1, size)
      log(`export: seeded ${size - have} rows in ${Math.round(performance.now() - t)} ms`)
      have = size
      results.push(await compare(db, port, app.child.pid, size, log))
    }
  } finally {
    await stopChild(app.child)
  }
  return results
}

/** One psql/HTTP pair on an existing database (for profiling by hand). */
export async function compareOnce (databaseUrl, port, pid) {
  const psql = await psqlExport(databaseUrl)
  const { result: api, peakMb, beforeMb } = await peakRss(pid, () => httpExport(port))
  return { psqlMs: Math.round(psql.ms), httpMs: Math.round(api.ms), ratio: api.ms / psql.ms, beforeMb, peakMb }
}
