// What the worker does with a refused mail: a temporary refusal (4xx) is retried until it arrives, a permanent one
// (5xx) is marked dead and never sent again (STANDARDS F32).
import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildTestApp, json } from './helpers/app.js'
import { waitUntil } from './helpers/wait.js'

const outboxRow = async (database: Awaited<ReturnType<typeof buildTestApp>>['database']) =>
  (await database.rows<{ status: string, attempts: number, last_error: string | null }>(
    sql`SELECT status, attempts, last_error FROM outbox ORDER BY id DESC LIMIT 1`))[0]

t.test('a confirmation mail the server refuses for now (451) is retried and then arrives once', async (t) => {
  const { app, smtp, database } = await buildTestApp(t)
  smtp.failWith = 451
  t.equal((await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'later@example.org' }) })).statusCode, 202)
  await waitUntil(async () => (await outboxRow(database))?.last_error !== null, 10_000, () => 'a failed attempt')
  smtp.failWith = undefined
  await smtp.waitFor(1, 10_000)
  await waitUntil(async () => (await outboxRow(database)).status === 'sent', 10_000, () => 'the row marked sent')
  const row = await outboxRow(database)
  t.ok(row.attempts >= 2, 'sent on a later attempt')
  t.equal(smtp.mails.length, 1, 'arrived once')
})

t.test('a confirmation mail the server refuses for good (550) is marked dead and not retried', async (t) => {
  const { app, smtp, database } = await buildTestApp(t)
  smtp.failWith = 550
  t.equal((await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'never@example.org' }) })).statusCode, 202)
  await waitUntil(async () => (await outboxRow(database))?.status === 'dead', 10_000, () => 'the row marked dead')
  const row = await outboxRow(database)
  t.equal(row.attempts, 1, 'one attempt only')
  t.match(row.last_error, /550/)
  smtp.failWith = undefined
  await new Promise((resolve) => setTimeout(resolve, 400)) // several polls and retry intervals
  t.equal(smtp.mails.length, 0, 'nothing sent afterwards')
})
