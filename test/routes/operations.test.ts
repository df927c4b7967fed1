// The operating endpoints over HTTP with a real SMTP sink: the staff view of the outbox (dead messages with masked
// addresses, retrying one or all of them) and GET /metrics in Prometheus text format.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildTestApp, json, staff } from '../helpers/app.js'
import { waitUntil } from '../helpers/wait.js'
import type { Database } from '../../src/db/client.js'

const METRICS_TOKEN = 'metrics-secret-for-tests-0123456789abcd'

async function outboxRows (database: Database) {
  return database.rows<{ id: number, status: string, attempts: number, has_payload: boolean }>(
    sql`SELECT id, status::text AS status, attempts, payload IS NOT NULL AS has_payload FROM outbox ORDER BY id`)
}

t.test('a mail refused with 550 is dead, listed for staff with a masked address, and a retry delivers it', async (t) => {
  const { app, smtp, database } = await buildTestApp(t)
  smtp.failWith = 550
  t.equal((await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'bounce.me@example.org' }) })).statusCode, 202)
  await waitUntil(async () => (await outboxRows(database))[0]?.status === 'dead', 10_000, () => 'message never went dead')
  const [row] = await outboxRows(database)
  t.equal(row.attempts, 1, 'a permanent failure is not retried')
  t.ok(row.has_payload, 'a dead confirmation keeps what it needs to be retried')

  const overview = await app.inject({ url: '/admin/outbox', headers: staff })
  t.equal(overview.statusCode, 200)
  const body = overview.json()
  t.equal(body.counts.dead, 1)
  t.equal(body.dead.length, 1)
  t.equal(body.dead[0].kind, 'confirmation')
  t.notMatch(body.dead[0].to, /bounce\.me/, 'the address is masked')
  t.match(body.dead[0].lastError, /550/)
  t.notMatch(overview.body, /bounce\.me@example\.org/)

  smtp.failWith = undefined
  const retried = await app.inject({ method: 'POST', url: `/admin/outbox/${body.dead[0].id}/retry`, headers: staff })
  t.same(retried.json(), { requeued: 1 })
  const [mail] = await smtp.waitFor(1)
  t.same(mail.envelope.to, ['bounce.me@example.org'])
  await waitUntil(async () => (await outboxRows(database))[0].status === 'sent')
  t.equal((await app.inject({ method: 'POST', url: `/admin/outbox/${body.dead[0].id}/retry`, headers: staff })).statusCode, 404,
    'a message that is no longer dead cannot be retried')
})

t.test('retry-all requeues every dead message', async (t) => {
  const { app, smtp, database } = await buildTestApp(t)
  smtp.failWith = 554
  for (const email of ['one@example.org', 'two@example.org']) {
    await app.inject({ method: 'POST', url: '/subscribe', ...json({ email }) })
  }
  await waitUntil(async () => (await outboxRows(database)).filter((r) => r.status === 'dead').length === 2)
  smtp.failWith = undefined
  const res = await app.inject({ method: 'POST', url: '/admin/outbox/retry-all', headers: staff })
  t.same(res.json(), { requeued: 2 })
  const mails = await smtp.waitFor(2)
  t.same(mails.map((m) => m.envelope.to[0]).sort(), ['one@example.org', 'two@example.org'])
})

t.test('staff outbox endpoints need the staff token, and a bad id is a 400', async (t) => {
  const { app } = await buildTestApp(t)
  t.equal((await app.inject({ url: '/admin/outbox' })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/admin/outbox/retry-all' })).statusCode, 401)
  const bad = await app.inject({ method: 'POST', url: '/admin/outbox/abc/retry', headers: { ...staff, accept: 'application/json' } })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().field, 'id')
  const { app: closed } = await buildTestApp(t, { ADMIN_TOKEN: '' })
  t.equal((await closed.inject({ url: '/admin/outbox' })).statusCode, 503)
})

t.test('/metrics reports outbox backlog, dead count and subscribers by status in Prometheus text', async (t) => {
  const { app, smtp, database } = await buildTestApp(t, { METRICS_TOKEN })
  smtp.failWith = 550
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'dead@example.org' }) })
  await waitUntil(async () => (await outboxRows(database))[0]?.status === 'dead')
  smtp.failWith = undefined

  t.equal((await app.inject({ url: '/metrics' })).statusCode, 401)
  t.equal((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode, 401)
  const res = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain/)
  t.match(res.body, /^joinlist_outbox_dead 1$/m)
  t.match(res.body, /^joinlist_outbox_backlog 0$/m)
  t.match(res.body, /^joinlist_outbox_messages\{status="dead"\} 1$/m)
  t.match(res.body, /^joinlist_subscribers\{status="pending"\} 1$/m)
  t.match(res.body, /^process_resident_memory_bytes \d+/m)
  t.equal((await app.inject({ url: '/metrics', headers: staff })).statusCode, 200, 'the staff token works too')

  const { app: closed } = await buildTestApp(t, { ADMIN_TOKEN: '' })
  t.equal((await closed.inject({ url: '/metrics' })).statusCode, 503, 'closed when no token is configured')
})
