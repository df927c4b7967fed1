// Mail hardening: addresses in SMTP refusal texts are masked wherever the text is kept or logged, and SMTP
// credentials never travel over a connection without TLS unless the operator opts out.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import type { Database } from '../../src/db/client.js'
import { json, staff, testConfig } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { startSmtp } from '../helpers/smtp.js'
import { waitUntil } from '../helpers/wait.js'
import { buildLoggedApp } from '../helpers/logs.js'

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

const PASSWORD = 'smtp-password-never-in-clear'

/** The app with the mailer built from SMTP_URL, as in production (buildTestApp injects its own). */
async function appWithSmtpUrl (t: Parameters<typeof testDatabase>[0], smtpUrl: string, env: Record<string, string> = {}) {
  const { database } = await testDatabase(t)
  const app = await buildApp(testConfig({ SMTP_URL: smtpUrl, ...env }), { database, logger: false })
  await app.ready()
  t.teardown(() => app.close())
  return { app, database }
}

t.test('credentials in an smtp:// URL are never sent to a server without STARTTLS: the mail waits with a clear error', async (t) => {
  const smtp = await startSmtp(t)
  const { app, database } = await appWithSmtpUrl(t, `smtp://joinlist:${PASSWORD}@127.0.0.1:${smtp.port}`)
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'tls-first@example.org' }) })
  await waitUntil(async () => ((await outboxRow(database))?.attempts ?? 0) >= 2 && !!(await outboxRow(database)).last_error,
    10_000, () => 'two failed attempts')
  const row = await outboxRow(database)
  t.not(row.status, 'dead', 'not a refusal of this mail: it stays queued and is retried')
  t.not(row.status, 'sent')
  t.match(row.last_error, /STARTTLS/)
  t.match(row.last_error, /SMTP_REQUIRE_TLS=false/, 'the error says what to do')
  t.notMatch(row.last_error, PASSWORD)
  t.equal(smtp.mails.length, 0, 'nothing sent')
  t.same(smtp.auths, [], 'the password never reached the server')
})

t.test('with SMTP_REQUIRE_TLS=false (a local mail catcher) the credentialed mail is sent', async (t) => {
  const smtp = await startSmtp(t)
  await (await appWithSmtpUrl(t, `smtp://joinlist:${PASSWORD}@127.0.0.1:${smtp.port}`, { SMTP_REQUIRE_TLS: 'false' }))
    .app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'catcher@example.org' }) })
  const [mail] = await smtp.waitFor(1)
  t.same(mail.envelope.to, ['catcher@example.org'])
  t.same(smtp.auths, [{ username: 'joinlist', password: PASSWORD }])
})

t.test('an smtp:// URL without credentials is unaffected', async (t) => {
  const smtp = await startSmtp(t)
  await (await appWithSmtpUrl(t, smtp.url)).app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'plain@example.org' }) })
  const [mail] = await smtp.waitFor(1)
  t.same(mail.envelope.to, ['plain@example.org'])
  t.same(smtp.auths, [])
})

t.test('SMTP_REQUIRE_TLS takes a boolean', async (t) => {
  t.throws(() => loadConfig({ SMTP_REQUIRE_TLS: 'sometimes' }), /^SMTP_REQUIRE_TLS:/)
  t.equal(loadConfig({}).smtpRequireTls, true, 'on by default')
  t.equal(loadConfig({ SMTP_REQUIRE_TLS: 'false' }).smtpRequireTls, false)
})
