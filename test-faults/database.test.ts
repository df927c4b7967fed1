// Drill: database trouble. Its connections are killed under load (pg_terminate_backend, this drill's database only),
// then it disappears altogether for a while (a TCP proxy in front of PostgreSQL is cut, as a restart would):
// readiness says 503, requests fail fast with 503, and the service recovers by itself with nothing lost.
import t from 'tap'
import { tcpProxy } from '../test/helpers/proxy.js'
import { startSmtp } from '../test/helpers/smtp.js'
import { waitUntil } from '../test/helpers/wait.js'
import { checkDelivery, drillDatabase, outboxState, pool, signup, sleep, startServer } from './harness.js'

async function readyz (base: string): Promise<number> {
  try {
    return (await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(10_000) })).status
  } catch {
    return 0
  }
}

t.test('killed connections and a vanished database give fast 503s, never hangs, and the service recovers with nothing lost', async (t) => {
  const db = await drillDatabase(t)
  const proxy = await tcpProxy(t, db.url)
  const sink = await startSmtp(t)
  const server = await startServer(t, 'app', { DATABASE_URL: proxy.url, SMTP_URL: sink.url, DATABASE_QUERY_TIMEOUT_MS: '3000', OUTBOX_LEASE_SECONDS: '10' })
  const accepted: string[] = []
  const refused: string[] = []
  const record = (emails: string[], statuses: number[]) => emails.forEach((e, i) => (statuses[i] === 202 ? accepted : refused).push(e))

  // 1. Backends terminated under load: only this drill's database, only the app's connections.
  const wave1 = Array.from({ length: 150 }, (_, i) => `wave1-${i}@example.org`)
  let loading = true
  let terminated = 0
  const killer = (async () => {
    // eslint-disable-next-line no-unmodified-loop-condition -- set to false by the load below, across awaits
    while (loading) {
      // A kill every quarter second while the load runs: the pace of the kills is the fault.
      await sleep(250)
      const rows = await db.sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = ${db.name} AND application_name = 'joinlist' AND pid <> pg_backend_pid()`
      terminated += rows.length
    }
  })()
  const statuses1 = await pool(wave1, 10, (email) => signup(server.url, email))
  loading = false
  await killer
  record(wave1, statuses1)
  t.comment(`terminated ${terminated} backends; ${statuses1.filter((s) => s === 202).length} sign-ups 202, ${statuses1.filter((s) => s === 503).length} 503`)
  t.ok(terminated > 0, 'backends were terminated during the load')
  t.same(statuses1.filter((s) => s !== 202 && s !== 503), [], 'every request got 202 or 503: no 500, no hang')

  // 2. The database is gone (the proxy drops every connection and refuses new ones).
  await proxy.cut()
  t.equal(await readyz(server.url), 503, '/readyz says 503 while the database is gone')
  const gap = Array.from({ length: 20 }, (_, i) => `gap-${i}@example.org`)
  const gapStatuses = await pool(gap, 5, (email) => signup(server.url, email, 10_000))
  record(gap, gapStatuses)
  t.same(gapStatuses.filter((s) => s !== 503), [], 'sign-ups during the gap fail with 503 (none hangs)')
  const page = await fetch(`${server.url}/subscribe`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, body: 'email=form-gap%40example.org', signal: AbortSignal.timeout(10_000)
  })
  t.equal(page.status, 503, 'a form post gets 503 too')
  t.match(await page.text(), /Service unavailable/, 'with a page saying so')
  // The outage has to last a while for the process to prove it outlives one: the time is the point here.
  await sleep(5000)
  t.ok(server.alive(), 'the process survives the outage')

  // 3. The database is back: the service recovers by itself.
  await proxy.restore()
  await waitUntil(async () => await readyz(server.url) === 200, 30_000, () => 'never ready again')
  const wave2 = Array.from({ length: 50 }, (_, i) => `wave2-${i}@example.org`)
  // A connection killed in step 1 can still hand its stale error to one query after the recovery (postgres.js).
  // The app tries such a query once more (src/db/client.ts), so the client should not see it; if it did, the
  // client's retry, as the 503 asks, would succeed.
  let retried = 0
  const statuses2 = await pool(wave2, 10, async (email) => {
    const first = await signup(server.url, email)
    if (first !== 503) return first
    retried++
    return await signup(server.url, email)
  })
  record(wave2, statuses2)
  t.comment(`after recovery, ${retried} of ${wave2.length} sign-ups needed one retry`)
  // Before the app retried, up to one 503 per pooled connection came through (seen: 2–7 of 50). Now none is
  // expected; one is allowed for the case where the app's retry lands on a second dead connection.
  t.ok(retried <= 1, 'no stale-connection 503 reaches a client after recovery')
  t.same(statuses2.filter((s) => s !== 202), [], 'all sign-ups after recovery got 202 (after at most one retry)')

  await waitUntil(async () => { const s = await outboxState(db.sql); return s.pending + s.sending === 0 }, 60_000,
    () => `${sink.mails.length} mails so far`)
  checkDelivery(t, accepted, sink, refused)
  server.proc.kill('SIGTERM')
  t.equal((await server.exited).code, 0)
})
