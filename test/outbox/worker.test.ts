// The outbox worker itself, around a real database and a real SMTP sink: stopping it mid-send (it finishes the send
// in hand and releases the rest), and faults injected into it: a connection lost while marking a mail sent (the
// mail is not sent twice), a failed pass (the next poll carries on), a message no longer wanted when its turn comes.
import t, { type Test } from 'tap'
import { sql } from 'drizzle-orm'
import { OutboxWorker } from '../../src/outbox/worker.js'
import { smtpMailer, type Mailer } from '../../src/mail/transport.js'
import type { Database } from '../../src/db/client.js'
import { buildTestApp, json, type TestApp } from '../helpers/app.js'
import { waitUntil } from '../helpers/wait.js'

const connectionLost = () => Object.assign(new Error('connection lost (injected)'), { code: 'CONNECTION_CLOSED' })

/** The real database, but the next query fails once with `fault` while `armed`. */
function faulty (database: Database) {
  const state = { armed: undefined as (() => Error) | undefined, calls: 0 }
  const wrapped: Database = {
    ...database,
    async rows (query) {
      state.calls++
      const fault = state.armed
      if (fault) { state.armed = undefined; throw fault() }
      return database.rows(query)
    }
  }
  return { database: wrapped, state }
}

function worker (t: Pick<Test, 'teardown'>, ctx: TestApp, database: Database, mailer: Mailer = smtpMailer(ctx.smtp.url, 1), concurrency = 2) {
  // Stopped, and its SMTP connections closed, before the sink shuts down.
  t.teardown(() => mailer.close())
  t.teardown(() => w.stop())
  const w = new OutboxWorker(database, mailer, ctx.app.log, {
    publicUrl: ctx.config.publicUrl,
    mail: ctx.app.mailSettings,
    confirmTtlHours: 72,
    pollMs: 50,
    batchSize: 10,
    concurrency,
    leaseSeconds: 60,
    retryBaseMs: 50,
    retryMaxMs: 100,
    maxAttempts: 5,
    lists: ctx.app.lists
  })
  w.start()
  return w
}

const statuses = (database: Database) => database.rows<{ status: string, attempts: number }>(
  sql`SELECT status::text AS status, attempts FROM outbox ORDER BY id`)

t.test('a stopped worker finishes the send in hand and releases the messages it has not started', async (t) => {
  const ctx = await buildTestApp(t, { WORKER: 'false' })
  for (const email of ['a@example.org', 'b@example.org', 'c@example.org']) {
    await ctx.app.inject({ method: 'POST', url: '/subscribe', ...json({ email }) })
  }
  const real = smtpMailer(ctx.smtp.url, 1)
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  let started = 0
  // The real SMTP transport, held back on its first message so stop() arrives mid-send.
  const held = { ...real, async send (m: Parameters<typeof real.send>[0]) { started++; await gate; await real.send(m) } }
  const w = worker(t, ctx, ctx.database, held, 1)
  await waitUntil(() => started === 1)
  const stopping = w.stop()
  release()
  await stopping
  const rows = await statuses(ctx.database)
  t.same(rows.map((r) => r.status), ['sent', 'pending', 'pending'], 'one sent, two handed back')
  t.same(rows.map((r) => r.attempts), [1, 0, 0], 'a released claim is not an attempt')
  t.equal(ctx.smtp.mails.length, 1)
})

t.test('a connection lost while marking a mail sent is retried: the mail is not sent twice', async (t) => {
  const ctx = await buildTestApp(t, { WORKER: 'false' })
  await ctx.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'once@example.org' }) })
  const { database, state } = faulty(ctx.database)
  const real = smtpMailer(ctx.smtp.url, 1)
  t.teardown(() => real.close())
  // Right after the SMTP server accepted the mail, the database connection drops once.
  const mailer = { ...real, async send (m: Parameters<typeof real.send>[0]) { await real.send(m); state.armed = connectionLost } }
  worker(t, ctx, database, mailer)
  await waitUntil(async () => (await statuses(ctx.database))[0].status === 'sent')
  t.same(await statuses(ctx.database), [{ status: 'sent', attempts: 1 }])
  t.equal(ctx.smtp.mails.length, 1)
})

t.test('a failed outbox pass is logged and the next poll carries on', async (t) => {
  const ctx = await buildTestApp(t, { WORKER: 'false' })
  await ctx.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'later@example.org' }) })
  const { database, state } = faulty(ctx.database)
  state.armed = () => new Error('something unexpected (injected)')
  worker(t, ctx, database)
  await ctx.smtp.waitFor(1)
  t.ok(state.calls >= 2, 'the worker polled again after the failed pass (the mail came from a later claim)')
})

t.test('a confirmation whose subscriber confirmed meanwhile is cancelled, not sent', async (t) => {
  const ctx = await buildTestApp(t, { WORKER: 'false' })
  await ctx.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'quick@example.org' }) })
  await ctx.database.rows(sql`UPDATE subscriptions SET status = 'confirmed'`)
  worker(t, ctx, ctx.database)
  await waitUntil(async () => (await statuses(ctx.database))[0].status === 'cancelled')
  t.equal(ctx.smtp.mails.length, 0)
})
