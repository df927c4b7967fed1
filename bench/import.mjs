// Import bench: a Mailchimp-shaped audience export of N rows (default 1M) written to a file, then imported with
// POST /admin/api/imports (streamed from the file) against psql's \copy of the same file into a plain table of the
// same columns on the same server (the physical limit: one COPY, no checks, no indexes, no ledger). Records the
// server's peak RSS meanwhile, and checks every row became a subscription with its import event.
import { spawn } from 'node:child_process'
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { ADMIN_TOKEN, appEnv, freePort, peakRss, root, startNode, stopChild, waitFor200 } from './lib.mjs'

const HEADER = 'Email Address,First Name,Last Name,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP'

async function writeFile (path, rows) {
  const out = createWriteStream(path)
  out.write(HEADER + '\n')
  let chunk = ''
  for (let i = 1; i <= rows; i++) {
    const name = i % 10 === 0 ? `"Name, ${i}"` : `Name${i}`
    chunk += `person.${i}@example.com,${name},Surname,2024-01-01 10:00:00,192.0.2.${i % 250},2024-01-01 10:05:00,192.0.2.${i % 250}\n`
    if (chunk.length > 1 << 16) { if (!out.write(chunk)) await once(out, 'drain'); chunk = '' }
  }
  out.end(chunk)
  await once(out, 'finish')
}

function psqlCopy (databaseUrl, path) {
  const script = 'DROP TABLE IF EXISTS import_reference;\n' +
    'CREATE TABLE import_reference (email text, first_name text, last_name text, optin_time timestamptz, optin_ip inet, confirm_time timestamptz, confirm_ip inet);\n' +
    `\\copy import_reference FROM '${path}' WITH (FORMAT csv, HEADER)\n`
  return new Promise((resolve, reject) => {
    const started = performance.now()
    let stderr = ''
    const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', databaseUrl], { stdio: ['pipe', 'ignore', 'pipe'] })
    child.stderr.on('data', (c) => { stderr += c })
    child.on('error', reject)
    child.on('close', (code) => code === 0 ? resolve({ ms: performance.now() - started }) : reject(new Error(`psql exited ${code}: ${stderr.trim()}`)))
    child.stdin.end(script)
  })
}

function httpImport (port, path) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/admin/api/imports?list=main',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv', 'content-length': statSync(path).size }
    }, (res) => {
      let body = ''
      res.on('data', (c) => { body += c })
      res.on('end', () => res.statusCode === 200
        ? resolve({ ms: performance.now() - started, report: JSON.parse(body) })
        : reject(new Error(`import answered ${res.statusCode}: ${body.slice(0, 300)}`)))
    })
    req.on('error', reject)
    createReadStream(path).pipe(req)
  })
}

export async function importBench ({ db, log, rows = 1_000_000 }) {
  const dir = mkdtempSync(join(tmpdir(), 'joinlist-bench-import-'))
  const path = join(dir, 'audience.csv')
  await db.sql`TRUNCATE subscribers, outbox, consent_events RESTART IDENTITY CASCADE`
  const port = await freePort()
  const app = startNode(`${root}dist/server.js`, appEnv(port, db.url, { IMPORT_MAX_MB: '1000' }), { label: 'import' })
  try {
    await waitFor200(`http://127.0.0.1:${port}/readyz`, app.child)
    log(`import: writing a ${rows}-row Mailchimp audience export`)
    await writeFile(path, rows)
    const bytes = statSync(path).size
    log(`import: psql \\copy of the file into a plain table (${(bytes / 1e6).toFixed(1)} MB)`)
    const psql = await psqlCopy(db.url, path)
    log('import: POST /admin/api/imports?list=main')
    const { result: api, peakMb, beforeMb } = await peakRss(app.child.pid, () => httpImport(port, path))
    const [stored] = await db.sql`SELECT (SELECT count(*)::int FROM subscriptions WHERE status = 'confirmed') AS subscriptions,
      (SELECT count(*)::int FROM consent_events WHERE type = 'import') AS events`
    const complete = api.report.rows.added === rows && stored.subscriptions === rows && stored.events === rows
    if (!complete) log(`import: incomplete: ${JSON.stringify({ report: api.report.rows, stored })}`)
    await db.sql`DROP TABLE IF EXISTS import_reference`
    return { rows, bytes, psqlMs: psql.ms, httpMs: api.ms, ratio: api.ms / psql.ms, serverRssBeforeMb: beforeMb, serverPeakRssMb: peakMb, complete }
  } finally {
    await stopChild(app.child)
    rmSync(dir, { recursive: true, force: true })
  }
}
