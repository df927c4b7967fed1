// Staff view of the outbox (dead letters, retry) and GET /metrics, over HTTP with a real SMTP sink (STANDARDS F32).
import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildTestApp, json, staff, testConfig } from '../helpers/app.js'
import { waitUntil } from '../helpers/wait.js'
import { OutboxWorker } from '../../src/outbox/worker.js'
import { smtpMailer } from '../../src/mail/transport.js'
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

t.test('a 451 is retried with backoff and the mail arrives once', async (t) => {
  const { app, smtp, database } = await buildTestApp(t)
  smtp.failWith = 451
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'later@example.org' }) })
  await waitUntil(async () => ((await outboxRows(database))[0]?.attempts ?? 0) >= 2, 10_000, () => 'no retry seen')
  smtp.failWith = undefined
  await smtp.waitFor(1)
  await waitUntil(async () => (await outboxRows(database))[0].status === 'sent')
  t.equal(smtp.mails.length, 1)
  t.notOk((await outboxRows(database))[0].has_payload, 'the token is wiped once sent')
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

t.test('a stopped worker finishes the send in hand and releases the messages it has not started', async (t) => {
  const { app, smtp, database } = await buildTestApp(t, { WORKER: 'false' })
  for (const email of ['a@example.org', 'b@example.org', 'c@example.org']) {
    await app.inject({ method: 'POST', url: '/subscribe', ...json({ email }) })
  }
  const real = smtpMailer(smtp.url, 1)
  t.teardown(() => real.close())
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  let started = 0
  // The real SMTP transport, held back on its first message so stop() arrives mid-send.
  const mailer = { kind: 'smtp' as const, close: () => {}, async send (m: Parameters<typeof real.send>[0]) { started++; await gate; await real.send(m) } }
  const config = testConfig()
  const worker = new OutboxWorker(database, mailer, app.log, {
    publicUrl: config.publicUrl,
    mail: app.mailSettings,
    tokenSecret: config.tokenSecret,
    confirmTtlHours: 72,
    pollMs: 50,
    batchSize: 10,
    concurrency: 1,
    leaseSeconds: 60,
    retryBaseMs: 50,
    retryMaxMs: 100,
    maxAttempts: 5
  })
  worker.start()
  await waitUntil(() => started === 1)
  const stopping = worker.stop()
  release()
  await stopping
  const rows = await outboxRows(database)
  t.same(rows.map((r) => r.status), ['sent', 'pending', 'pending'], 'one sent, two handed back')
  t.same(rows.map((r) => r.attempts), [1, 0, 0], 'a released claim is not an attempt')
  t.equal(smtp.mails.length, 1)
})
