// Abandoned exports give back their database connection: HEAD runs no COPY, a download cut mid-body or left
// unread is ended, exports run on connections of their own under a concurrency cap, so sign-ups, confirmations and
// /readyz keep working whatever staff downloads do. Over a real socket: inject() cannot abandon a response.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import postgres from 'postgres'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import type { Database } from '../../src/db/client.js'
import { ADMIN_TOKEN, buildTestApp, json, staff } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { readToEnd, startDownload } from '../helpers/download.js'
import { waitUntil } from '../helpers/wait.js'

const postgresOnly = process.env.DATABASE_URL
  ? {}
  : { skip: 'needs DATABASE_URL: the embedded database has no connections to lose and no COPY over a socket' }

/**
 * Rows wide enough (≈ 800 bytes each, 30+ MB in all) that an export fills the socket buffers on both sides long
 * before it ends, so a client that stops reading leaves the export blocked mid-write, as a real abandoned one is.
 */
async function seedWideList (database: Database, n = 40_000): Promise<void> {
  await database.rows(sql`
    INSERT INTO subscribers (email, email_normalized, mailbox, name, status, signed_up_at, signup_user_agent)
    SELECT 'wide.' || g || '@example.org', 'wide.' || g || '@example.org', 'wide.' || g || '@example.org', 'Wide ' || g, 'confirmed',
      now() - interval '1 day', repeat('Mozilla/5.0 ', 60)
    FROM generate_series(1, ${n}::int) g`)
}

async function listen (app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

const exportEvents = async (database: Database) =>
  Number((await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM consent_events WHERE type = 'export'`))[0].n)

/** Rejects once `ms` have passed: on the code before the fix these requests hung on a pool with no connection left. */
function within<T> (ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms) })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

function head (port: number, query = ''): Promise<{ status: number, headers: http.IncomingHttpHeaders, body: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'HEAD', path: `/admin/subscribers.csv${query}`, agent: false, headers: staff }, (res) => {
      let body = 0
      res.on('data', (c: Buffer) => { body += c.length })
      res.once('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    req.setTimeout(10_000, () => req.destroy(new Error('HEAD: no answer within 10 s')))
    req.once('error', reject)
    req.end()
  })
}

const download = (port: number) => startDownload(`http://127.0.0.1:${port}`, '/admin/subscribers.csv?status=all', `Bearer ${ADMIN_TOKEN}`)

/** The test database's backends that an export holds: ours by application_name, or any stuck as the bug left them. */
async function exportBackends (observer: postgres.Sql): Promise<number> {
  const [{ n }] = await observer<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND (application_name = 'joinlist-export' OR state = 'idle in transaction' OR wait_event = 'ClientWrite')`
  return n
}

async function blockedWriting (observer: postgres.Sql): Promise<number> {
  const [{ n }] = await observer<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND application_name = 'joinlist-export' AND wait_event = 'ClientWrite'`
  return n
}

function observe (t: Tap, url: string): postgres.Sql {
  const observer = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: 'joinlist-test-observer' } })
  t.teardown(() => observer.end({ timeout: 1 }))
  return observer
}
type Tap = { teardown(fn: () => unknown): void }

t.test('HEAD ×20 and 20 downloads abandoned mid-body give back every connection; sign-ups and /readyz keep working', postgresOnly, async (t) => {
  const { database, url } = await testDatabase(t)
  const observer = observe(t, url!)
  // A cap above the number of downloads: this test is about every connection coming back, not about the cap.
  const { app } = await buildTestApp(t, { EXPORT_CONCURRENCY: '20', WORKER: 'false' }, { database })
  await seedWideList(database)
  const port = await listen(app)

  for (let i = 0; i < 20; i++) {
    const res = await head(port)
    if (res.status !== 200) t.fail(`HEAD ${i + 1} answered ${res.status}`)
  }
  t.equal(await within(5000, 'export backends after HEAD', exportBackends(observer)), 0, 'HEAD left no backend behind')

  const downloads = await Promise.all(Array.from({ length: 20 }, () => download(port)))
  t.same(downloads.map((d) => d.status), Array(20).fill(200), '20 downloads at once all started')
  t.ok(downloads.every((d) => d.received >= 200_000), 'and each had sent part of its body when it stopped being read')
  // While 20 downloads sit unread, the public routes still get connections: exports do not use their pool.
  const signupDuring = await within(5000, 'a sign-up during the downloads', app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'during@example.org' }) }))
  t.equal(signupDuring.statusCode, 202, 'a sign-up during 20 stalled downloads is accepted')
  t.equal((await within(5000, '/readyz during the downloads', app.inject({ url: '/readyz' }))).statusCode, 200)
  let blocked = 0
  await waitUntil(async () => (blocked = await blockedWriting(observer)) === 20, 10_000, () => `${blocked} backends blocked writing`)
  t.equal(blocked, 20, 'each download\'s backend is blocked writing to its client, as an abandoned one is')

  for (const d of downloads) d.socket.destroy()
  const abandonedAt = Date.now()
  // Everything below within 5 s of abandoning them.
  const left = () => Math.max(5000 - (Date.now() - abandonedAt), 1)
  await waitUntil(async () => await exportBackends(observer) === 0, left(), () => 'the export backends to end')
  const signup = await within(left(), 'a sign-up after the downloads', app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'after@example.org' }) }))
  t.equal(signup.statusCode, 202, 'a sign-up right after is accepted')
  t.equal((await within(left(), '/readyz after', app.inject({ url: '/readyz' }))).statusCode, 200, '/readyz is 200')
  t.comment(`connections back and both answered ${Date.now() - abandonedAt} ms after the downloads were abandoned`)
})

t.test('HEAD answers the export headers with no body, runs no COPY and writes no ledger row', async (t) => {
  const { app, database } = await buildTestApp(t, { WORKER: 'false' })
  const port = await listen(app)
  const before = await exportEvents(database)
  const res = await head(port, '?status=all')
  t.equal(res.status, 200)
  t.equal(res.body, 0, 'no body')
  t.notOk(res.headers['content-length'], 'no Content-Length: 0, which would say the list is empty')
  const get = await app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })
  for (const name of ['content-type', 'content-disposition', 'cache-control']) t.equal(res.headers[name], get.headers[name], `${name} as GET has it`)
  t.equal(await exportEvents(database), before + 1, 'only the GET is in the consent ledger')
  const bad = await head(port, '?since=0000-01-01')
  t.equal(bad.status, 400, 'HEAD is validated like GET')
})

t.test('beyond EXPORT_CONCURRENCY an export answers 503 with Retry-After, and is served again once one ends', async (t) => {
  const { app, database } = await buildTestApp(t, { EXPORT_CONCURRENCY: '2', WORKER: 'false' })
  await seedWideList(database)
  const port = await listen(app)
  const before = await exportEvents(database)

  const running = await Promise.all([download(port), download(port)])
  t.same(running.map((d) => d.status), [200, 200])
  const full = await fetch(`http://127.0.0.1:${port}/admin/subscribers.csv`, { headers: { ...staff, accept: 'application/json' } })
  t.equal(full.status, 503)
  t.match(full.headers.get('retry-after'), /^\d+$/)
  t.match(await full.json(), { error: 'exports_busy', message: /2 exports are running/ })
  const page = await fetch(`http://127.0.0.1:${port}/admin/subscribers.csv`, { headers: { ...staff, accept: 'text/html' } })
  t.equal(page.status, 503)
  t.match(await page.text(), /2 exports are running/, 'a browser gets it as a page')
  const fullHead = await head(port)
  t.equal(fullHead.status, 503, 'HEAD says what GET would')
  t.equal(await exportEvents(database), before + 2, 'a refused export is not in the ledger')

  // The public routes are not affected by full export slots.
  t.equal((await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'busy@example.org' }) })).statusCode, 202)

  running[0].socket.destroy()
  let status = 0
  await waitUntil(async () => {
    const res = await fetch(`http://127.0.0.1:${port}/admin/subscribers.csv?status=pending`, { headers: staff })
    await res.arrayBuffer()
    status = res.status
    return status === 200
  }, 5000, () => `an export to be served again (last: ${status})`)
  t.equal(status, 200, 'a slot came back when a download was abandoned')
  running[1].socket.destroy()
})

t.test('a download left unread past EXPORT_IDLE_TIMEOUT_SECONDS is cut and gives back its slot', async (t) => {
  const { app, database } = await buildTestApp(t, { EXPORT_CONCURRENCY: '1', EXPORT_IDLE_TIMEOUT_SECONDS: '1', WORKER: 'false' })
  await seedWideList(database)
  const port = await listen(app)
  // A paused download: the client neither reads nor closes, so only the server's idle timeout can end it.
  const paused = await download(port)
  t.equal(paused.status, 200)
  let status = 0
  await waitUntil(async () => {
    const res = await fetch(`http://127.0.0.1:${port}/admin/subscribers.csv?status=pending`, { headers: staff })
    await res.arrayBuffer()
    status = res.status
    return status === 200
  }, 10_000, () => `the slot to come back (last: ${status})`)
  t.pass('the slot came back while the client still held its socket open')
  // Reading on, the client gets what was already in flight, then the end of a cut response: no closing chunk.
  const tail = await readToEnd(paused.socket)
  t.notOk(tail.endsWith('0\r\n\r\n'), 'the response was cut, not completed')
})
