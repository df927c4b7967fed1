// Export bench: seed 100k then 1M subscribers with generate_series, then time GET /admin/subscribers.csv?status=all
// to the end of the body against psql's \copy of the same SQL, and record the server's peak RSS meanwhile.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import http from 'node:http'
import { exportSql } from '../dist/domain/export.js'
import { unsubscribeHmacKeys } from '../dist/domain/tokens.js'
import { ADMIN_TOKEN, PUBLIC_URL, TOKEN_SECRET, appEnv, freePort, peakRss, root, startNode, stopChild, waitFor200 } from './lib.mjs'

/** Adds subscribers with ids from..to: every status, names that need quoting or neutralising, IPs, user agents. */
export async function seed (sql, from, to) {
  await sql`
    INSERT INTO subscribers (email, email_normalized, name, status, source, signed_up_at, signup_ip, signup_user_agent,
      confirmed_at, confirm_ip, unsubscribed_at)
    SELECT 'Seed.' || g || '@Example.com', 'seed.' || g || '@example.com',
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

function httpExport (port) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const hash = createHash('sha256')
    let bytes = 0
    const req = http.get({ host: '127.0.0.1', port, path: '/admin/subscribers.csv?status=all', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, (res) => {
      if (res.statusCode !== 200) { reject(new Error(`export answered ${res.statusCode}`)); res.resume(); return }
      res.on('data', (c) => { bytes += c.length; hash.update(c) })
      res.on('end', () => resolve({ ms: performance.now() - started, bytes, sha256: hash.digest('hex') }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

function psqlExport (databaseUrl) {
  const { ipad, opad } = unsubscribeHmacKeys(TOKEN_SECRET)
  // The very statement the app runs, as a one-line \copy; its settings arrive as connection options.
  const copy = exportSql({ status: 'all' }).replace(/\s*\n\s*/g, ' ').replace(/^COPY /, '\\copy ')
  const options = [`-c joinlist.base=${PUBLIC_URL}`, `-c joinlist.ipad=${ipad.toString('hex')}`,
    `-c joinlist.opad=${opad.toString('hex')}`, '-c joinlist.status=all', '-c joinlist.since=', '-c TimeZone=UTC']
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const hash = createHash('sha256')
    let bytes = 0
    let stderr = ''
    const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', databaseUrl, '-c', copy],
      { env: { ...process.env, PGOPTIONS: options.join(' ') }, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.on('data', (c) => { bytes += c.length; hash.update(c) })
    child.stderr.on('data', (c) => { stderr += c })
    child.on('error', reject)
    child.on('close', (code) => code === 0
      ? resolve({ ms: performance.now() - started, bytes, sha256: hash.digest('hex') })
      : reject(new Error(`psql exited ${code}: ${stderr.trim()}`)))
  })
}

async function compare (db, port, pid, rows, log) {
  log(`export: ${rows} rows, psql \\copy`)
  const psql = await psqlExport(db.url)
  log(`export: ${rows} rows, GET /admin/subscribers.csv?status=all`)
  const { result: api, peakMb, beforeMb } = await peakRss(pid, () => httpExport(port))
  return {
    rows,
    psqlMs: psql.ms,
    httpMs: api.ms,
    ratio: api.ms / psql.ms,
    bytes: api.bytes,
    identicalToPsql: api.sha256 === psql.sha256 && api.bytes === psql.bytes,
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
  return { psqlMs: Math.round(psql.ms), httpMs: Math.round(api.ms), ratio: api.ms / psql.ms, same: api.sha256 === psql.sha256, beforeMb, peakMb }
}
