// Drill: kill -9 the server in the middle of an import, while the file is still arriving and its rows are being
// copied into the staging table. The import is one transaction, so PostgreSQL rolls it back when the process's
// connection dies: the list is as it was, the ledger has no import event, and the same file imports whole afterwards.
// A client that abandons its upload half-way ends the import the same way.
import t from 'tap'
import http from 'node:http'
import { ADMIN_TOKEN } from '../test/helpers/app.js'
import { waitUntil } from '../test/helpers/wait.js'
import { drillDatabase, signup, startServer } from './harness.js'

const ROWS = 100_000
const csv = 'Email Address,First Name,OPTIN_TIME\n' +
  Array.from({ length: ROWS }, (_, i) => `kill-${i}@example.org,Person ${i},2024-01-01 00:00:00\n`).join('')

/** POSTs the first half of the file and holds the rest back; `rest()` sends it. */
function halfUpload (base: string) {
  const { hostname, port } = new URL(base)
  const request = http.request({
    host: hostname,
    port,
    method: 'POST',
    path: '/admin/api/imports?list=main',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv', 'content-length': Buffer.byteLength(csv) }
  })
  const answer = new Promise<{ status: number, body: string }>((resolve) => {
    request.once('response', (res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    request.once('error', (err) => resolve({ status: 0, body: err.message }))
  })
  const half = csv.length >> 1
  request.write(csv.slice(0, half))
  return { answer, rest: () => request.end(csv.slice(half)), abort: () => request.destroy() }
}

t.test('kill -9 mid-import leaves the list as it was; the same file then imports whole', async (t) => {
  const db = await drillDatabase(t)
  const env = { DATABASE_URL: db.url }
  const first = await startServer(t, 'first', env)
  t.equal(await signup(first.url, 'already@example.org'), 202)

  const upload = halfUpload(first.url)
  // The import's own session is copying rows into its staging table.
  await waitUntil(async () => (await db.sql`
    SELECT 1 FROM pg_stat_activity WHERE application_name = 'joinlist-import' AND query ILIKE 'COPY import_rows%'`).length > 0,
  30_000, () => 'the import never started copying')
  first.proc.kill('SIGKILL')
  t.equal((await first.exited).signal, 'SIGKILL')
  t.equal((await upload.answer).status, 0, 'the client saw the connection die, not an answer')

  // PostgreSQL notices the dead connection and rolls the transaction back.
  await waitUntil(async () => (await db.sql`SELECT 1 FROM pg_stat_activity WHERE application_name = 'joinlist-import'`).length === 0,
    30_000, () => 'the import session outlived its process')
  const [after] = await db.sql<{ subscribers: number, imports: number }[]>`
    SELECT (SELECT count(*)::int FROM subscribers) AS subscribers,
      (SELECT count(*)::int FROM consent_events WHERE type = 'import') AS imports`
  t.same(after, { subscribers: 1, imports: 0 }, 'nothing of the import was kept')

  const second = await startServer(t, 'second', env)
  // A client that gives up mid-upload: the import stops and rolls back, and its session and lock are given back.
  const abandoned = halfUpload(second.url)
  await waitUntil(async () => (await db.sql`
    SELECT 1 FROM pg_stat_activity WHERE application_name = 'joinlist-import' AND query ILIKE 'COPY import_rows%'`).length > 0,
  30_000, () => 'the second import never started copying')
  abandoned.abort()
  await waitUntil(async () => (await db.sql`SELECT 1 FROM pg_stat_activity WHERE application_name = 'joinlist-import'`).length === 0,
    30_000, () => 'the abandoned import kept its session')
  t.equal((await db.sql`SELECT 1 FROM consent_events WHERE type = 'import'`).length, 0, 'nothing of the abandoned upload was kept')
  const again = halfUpload(second.url)
  again.rest()
  const done = await again.answer
  t.equal(done.status, 200, done.body)
  t.match(JSON.parse(done.body).rows, { read: ROWS, added: ROWS, invalid: 0 })
  const [whole] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM consent_events WHERE type = 'import'`
  t.equal(whole.n, ROWS)
  second.proc.kill('SIGTERM')
  t.equal((await second.exited).code, 0)
})
