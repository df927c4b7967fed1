// Delivering the outbox over a real SMTP server that goes down, refuses or gets a burst: a sign-up never waits for
// its mail; a temporary refusal (4xx) is retried with capped backoff as the same message (one Message-ID, stored on
// the outbox row, so a retry is never a second mail); a permanent one (5xx) makes the message dead at once, for staff
// to see, with no retry storm (RFC 5321 §4.2.1 reply classes).
import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildTestApp, json } from '../helpers/app.js'
import { mailsTo, waitForMailTo } from '../helpers/smtp.js'
import { waitUntil } from '../helpers/wait.js'
import { outboxIdle, signUp } from '../helpers/flow.js'
import type { Database } from '../../src/db/client.js'

interface OutboxRow { kind: string, status: string, attempts: number, message_id: string, last_error: string | null, has_payload: boolean, email: string }

const outboxRows = (database: Database) => database.rows<OutboxRow>(sql`
  SELECT o.kind, o.status, o.attempts, o.message_id, o.last_error, o.payload IS NOT NULL AS has_payload, s.email
  FROM outbox o JOIN subscribers s ON s.id = o.subscriber_id ORDER BY o.id`)

t.test('with the mail server down, sign-ups still get 202 and every mail goes out once it is back', async (t) => {
  const { app, smtp, database } = await buildTestApp(t)
  // Nothing listens on the sink's port now: connections are refused, as when the mail server is down.
  await smtp.stop()

  const emails = ['down1@example.org', 'down2@example.org', 'down3@example.org', 'down4@example.org']
  for (const email of emails) {
    const res = await signUp(app, email)
    t.equal(res.statusCode, 202, `${email}: accepted while the mail server is down`)
  }
  await waitUntil(async () => (await outboxRows(database)).every((r) => r.attempts >= 1 && r.last_error !== null), 10_000,
    () => 'every message to be tried and fail once')
  t.ok((await outboxRows(database)).every((r) => r.status !== 'sent'), 'nothing sent yet')

  await smtp.start()
  await smtp.waitFor(emails.length)
  await outboxIdle(database)
  for (const email of emails) t.equal(mailsTo(smtp, email).length, 1, `${email}: one confirmation mail once the server is back`)
  t.ok((await outboxRows(database)).every((r) => r.status === 'sent'))
})

t.test('a server that answers 451 twice and then accepts gets exactly one delivery, with the same Message-ID each time', async (t) => {
  const ta = await buildTestApp(t)
  ta.smtp.failNext = [451, 451]
  await signUp(ta.app, 'greylisted@example.org')
  const mail = await waitForMailTo(ta.smtp, 'greylisted@example.org')
  await outboxIdle(ta.database)

  t.equal(mailsTo(ta.smtp, 'greylisted@example.org').length, 1, 'delivered once')
  t.same(ta.smtp.refused.map((r) => r.code), [451, 451], 'refused twice first')
  const [row] = await outboxRows(ta.database)
  t.match(row, { kind: 'confirmation', status: 'sent', attempts: 3 })
  t.equal(row.has_payload, false, 'the token is wiped once the retried mail is sent')
  t.equal(mail.parsed.messageId, row.message_id, 'the delivered Message-ID is the one stored on the outbox row')
  t.same(ta.smtp.refused.map((r) => r.messageId), [row.message_id, row.message_id], 'every retry was the same message')
})

t.test('a 550 makes the message dead at once: no retries, the reason kept, other mail unaffected', async (t) => {
  const ta = await buildTestApp(t)
  ta.smtp.failNext = [550]
  await signUp(ta.app, 'no-such-user@example.org')
  await waitUntil(async () => (await outboxRows(ta.database))[0]?.status === 'dead', 10_000, () => 'the message to be dead')

  // Later mail still flows, and the worker has had more passes in which it could have retried.
  await signUp(ta.app, 'fine@example.org')
  await waitForMailTo(ta.smtp, 'fine@example.org')
  await outboxIdle(ta.database)
  const [dead] = await outboxRows(ta.database)
  t.match(dead, { email: 'no-such-user@example.org', status: 'dead', attempts: 1 })
  t.match(dead.last_error, /550/, 'the permanent failure stays visible')
  t.equal(ta.smtp.refused.length, 1, 'tried once only')
  t.equal(mailsTo(ta.smtp, 'no-such-user@example.org').length, 0)
})

t.test('after OUTBOX_MAX_ATTEMPTS temporary failures the message is dead', async (t) => {
  const ta = await buildTestApp(t, { OUTBOX_MAX_ATTEMPTS: '3' })
  ta.smtp.failWith = 421
  await signUp(ta.app, 'always-busy@example.org')
  await waitUntil(async () => (await outboxRows(ta.database))[0]?.status === 'dead', 10_000, () => 'the message to be dead')
  ta.smtp.failWith = undefined
  const [dead] = await outboxRows(ta.database)
  t.match(dead, { status: 'dead', attempts: 3 })
  t.equal(ta.smtp.refused.length, 3)
})

t.test('every mail carries the Message-ID stored on its outbox row, at the sending domain', async (t) => {
  const ta = await buildTestApp(t)
  await signUp(ta.app, 'ids@example.org')
  const confirmation = await waitForMailTo(ta.smtp, 'ids@example.org')
  const confirmUrl = /https:\/\/news\.example\.org(\/confirm\/\S+)/.exec(confirmation.parsed.text ?? '')![1]
  await ta.app.inject({ method: 'POST', url: confirmUrl, headers: { accept: 'application/json' } })
  const welcome = await waitForMailTo(ta.smtp, 'ids@example.org', 2)
  await outboxIdle(ta.database)
  const rows = await outboxRows(ta.database)
  t.same(rows.map((r) => r.kind), ['confirmation', 'welcome'])
  t.equal(confirmation.parsed.messageId, rows[0].message_id)
  t.equal(welcome.parsed.messageId, rows[1].message_id)
  t.not(rows[0].message_id, rows[1].message_id)
  for (const mail of [confirmation, welcome]) {
    t.match(mail.parsed.messageId, /^<[0-9a-f-]{36}@mail\.example\.org>$/)
    const lines = mail.raw.split(/\r?\n(?=\S)/)
    for (const header of ['Message-ID', 'Date', 'From']) {
      t.equal(lines.filter((l) => l.toLowerCase().startsWith(`${header.toLowerCase()}:`)).length, 1, `exactly one ${header} (RFC 5322 §3.6)`)
    }
    t.equal(mail.parsed.headers.get('auto-submitted'), 'auto-generated')
    t.match(mail.parsed.headers.get('content-type'), { value: 'multipart/alternative' })
  }
  const [payload] = await ta.database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM outbox WHERE payload IS NOT NULL`)
  t.equal(Number(payload.n), 0, 'no raw confirmation token is kept once the mail is sent')
})

t.test('a burst of sign-ups gets one confirmation mail each, and every outbox row is marked sent once', async (t) => {
  // More sign-ups than the worker's window (SMTP_POOL_SIZE × 20 = 20): it claims in a sliding window and marks rows
  // sent in groups.
  const { app, smtp, database } = await buildTestApp(t, { SMTP_POOL_SIZE: '1', RATE_LIMIT_SUBSCRIBE_MAX: '1000' })
  const count = 30
  const signups = await Promise.all(Array.from({ length: count }, (_, i) =>
    app.inject({ method: 'POST', url: '/subscribe', ...json({ email: `burst${i}@example.org` }) })))
  t.same(signups.map((r) => r.statusCode), Array(count).fill(202))

  await smtp.waitFor(count, 30_000)
  const recipients = smtp.mails.map((m) => m.envelope.to[0]).sort()
  t.same(recipients, Array.from({ length: count }, (_, i) => `burst${i}@example.org`).sort(), 'each address once')
  t.equal(new Set(smtp.mails.map((m) => m.parsed.messageId)).size, count, 'no Message-ID twice')

  await outboxIdle(database)
  const [row] = await database.rows<{ sent: number, retried: number, unsent: number }>(sql`
    SELECT count(*) FILTER (WHERE status = 'sent')::int AS sent, count(*) FILTER (WHERE attempts <> 1)::int AS retried,
      count(*) FILTER (WHERE sent_at IS NULL OR payload IS NOT NULL)::int AS unsent
    FROM outbox`)
  t.equal(Number(row.sent), count, 'every outbox row sent')
  t.same({ retried: Number(row.retried), unsent: Number(row.unsent) }, { retried: 0, unsent: 0 }, 'one attempt each; sent_at set and token dropped')
  t.equal(smtp.mails.length, count, 'nothing sent twice')
})
