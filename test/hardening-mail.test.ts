// Mail hardening: addresses in SMTP refusal texts are masked wherever the text is kept or logged.
import t from 'tap'
import { sql } from 'drizzle-orm'
import type { Database } from '../src/db/client.js'
import { json, staff, waitUntil } from './helper.js'
import { buildLoggedApp } from './log-capture.js'

interface OutboxRow { status: string, attempts: number, last_error: string | null }
const outboxRow = async (database: Database) =>
  (await database.rows<OutboxRow>(sql`SELECT status::text AS status, attempts, last_error FROM outbox ORDER BY id DESC LIMIT 1`))[0]

t.test('an SMTP refusal naming the address is kept and logged with the address masked', async (t) => {
  const { app, smtp, database, logText } = await buildLoggedApp(t)
  const email = 'jane.refused@example.org'
  smtp.failWith = 550
  smtp.failText = `5.1.1 <${email}>: Recipient address rejected (also tried ${email.toUpperCase()}, jane.refused+news@mail.example.org)`
  t.equal((await app.inject({ method: 'POST', url: '/subscribe', ...json({ email }) })).statusCode, 202)
  await waitUntil(async () => (await outboxRow(database))?.status === 'dead', 10_000, () => 'the message marked dead')

  const overview = await app.inject({ url: '/admin/outbox', headers: staff })
  const [dead] = overview.json().dead
  t.match(dead.lastError, /550 5\.1\.1 <j\*\*\*@example\.org>: Recipient address rejected/, `GET /admin/outbox: ${dead.lastError}`)
  t.match(dead.lastError, /J\*\*\*@EXAMPLE\.ORG, j\*\*\*@mail\.example\.org/)
  t.notMatch(overview.body, /jane\.refused/i, 'no full address in GET /admin/outbox')
  t.notMatch((await outboxRow(database)).last_error, /jane\.refused/i, 'nor in the stored last error')
  await waitUntil(() => logText().includes('mail failed permanently'), 5000, () => 'the log line')
  t.notMatch(logText(), /jane\.refused/i, 'nor in any log line')
  t.match(logText(), /<j\*\*\*@example\.org>: Recipient address rejected/, 'the refusal is still logged, masked')
})

t.test('a temporary refusal naming the address is kept and logged masked while the mail waits for its retry', async (t) => {
  const { app, smtp, database, logText } = await buildLoggedApp(t)
  smtp.failWith = 451
  smtp.failText = '4.2.2 <later.person@example.net>: mailbox full, try again later'
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'later.person@example.net' }) })
  await waitUntil(async () => !!(await outboxRow(database))?.last_error, 10_000, () => 'a failed attempt')
  t.match((await outboxRow(database)).last_error, /451 4\.2\.2 <l\*\*\*@example\.net>: mailbox full/)
  await waitUntil(() => logText().includes('mail failed; will retry'), 5000, () => 'the log line')
  smtp.failWith = undefined
  await smtp.waitFor(1)
  t.notMatch(logText(), /later\.person/i)
})
