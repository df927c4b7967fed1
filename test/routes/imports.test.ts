// Importing a list over HTTP: real-shaped Mailchimp and listmonk exports (BOM, CRLF, `;`, quoted line breaks,
// duplicates, bad rows, erased and unsubscribed addresses) streamed as text/csv, checked in the database, the
// consent ledger and the SMTP sink.
import t from 'tap'
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { sql } from 'drizzle-orm'
import { buildTestApp, staff, type TestApp } from '../helpers/app.js'
import { outboxIdle, signUpAndConfirm } from '../helpers/flow.js'
import { mailsTo } from '../helpers/smtp.js'

/** The file as a stream of small chunks, so the parser sees records cut anywhere. */
const streamed = (text: string) => {
  const bytes = Buffer.from(text)
  const chunks: Buffer[] = []
  for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7))
  return Readable.from(chunks)
}

const post = (app: TestApp['app'], query: string, body: string, type = 'text/csv') => app.inject({
  method: 'POST', url: `/admin/api/imports?${query}`, payload: streamed(body), headers: { ...staff, 'content-type': type }
})

const subscriptionsOf = (database: TestApp['database']) => database.rows<{ email: string, status: string, confirmed_at: string | null, signup_ip: string | null, method: string | null }>(sql`
  SELECT s.email_normalized AS email, p.status, p.confirmed_at::text, host(p.signup_ip) AS signup_ip, p.unsubscribe_method::text AS method
  FROM subscriptions p JOIN subscribers s ON s.id = p.subscriber_id ORDER BY 1`)

const MAILCHIMP = '\uFEFF' + [
  'Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LATITUDE,TAGS',
  'ann@example.org,Ann,"Lee, Jr",2,2023-01-15 10:22:33,203.0.113.5,2023-01-15 10:25:00,203.0.113.6,,"a,b"',
  'bob@example.org,Bob,,2,2023-02-01 08:00:00,,2023-02-01 08:05:00,,,',
  'carol@example.org,Carol,,2,2023-03-01 08:00:00,,,,,',
  'not-an-address,Nobody,,1,,,,,,',
  'Ann@Example.org,Ann again,,2,2023-01-15 10:22:33,,,,,',
  'eve@example.org,"Eve',
  'Two Lines",,2,2024-06-01T09:00:00+02:00,2001:db8::1,,,,',
  'frank@example.org,Frank,,2,2099-01-01 00:00:00,,,,,',
  'gus@example.org,Gus,,2,,,,,,',
  ''
].join('\r\n')

t.test('a Mailchimp audience export: consent kept, suppression wins, nothing mailed', async (t) => {
  const test = await buildTestApp(t)
  const { app, database, smtp } = test
  await signUpAndConfirm(test, 'bob@example.org')
  await signUpAndConfirm(test, 'carol@example.org')
  // Their welcome mails first: one still being sent when carol is erased would arrive after the import.
  await outboxIdle(database)
  t.equal((await app.inject({ method: 'DELETE', url: '/admin/subscribers/carol@example.org', headers: staff })).statusCode, 200)
  await outboxIdle(database)
  const mailsBefore = smtp.mails.length

  const dry = await post(app, 'list=main&dryRun=true', MAILCHIMP)
  t.equal(dry.statusCode, 200, dry.body)
  const before = await subscriptionsOf(database)
  const res = await post(app, 'list=main', MAILCHIMP)
  t.equal(res.statusCode, 200, res.body)
  const report = res.json()
  t.same({ ...dry.json(), dryRun: false }, report, 'the dry run gave the same report')
  t.same(before.map((r) => r.email), ['bob@example.org'], 'the dry run changed nothing')
  t.same(report.rows, { read: 8, added: 3, updated: 0, unchanged: 1, suppressed: 1, invalid: 2, duplicates: 1 })
  t.equal(report.file.sha256, createHash('sha256').update(MAILCHIMP).digest('hex'))
  t.equal(report.withoutEvidence, 1, 'gus has no opt-in time')
  t.match(report.columns, { used: { email: 'Email Address', 'opt-in time': 'OPTIN_TIME' }, ignored: ['MEMBER_RATING', 'LATITUDE', 'TAGS'] })
  t.same(report.problems.map((p: { line: number, column?: string }) => [p.line, p.column]),
    [[4, 'email'], [5, 'email'], [6, 'email'], [9, 'opt-in time']], 'erased, invalid, duplicate, future time, by line')
  t.match(report.problems[0].reason, /erased/)
  t.match(report.problems[2].reason, /line 2/)

  const rows = await subscriptionsOf(database)
  t.match(rows, [
    { email: 'ann@example.org', status: 'confirmed', confirmed_at: '2023-01-15 10:25:00+00', signup_ip: '203.0.113.5' },
    { email: 'bob@example.org', status: 'confirmed' },
    { email: 'eve@example.org', status: 'confirmed', confirmed_at: '2024-06-01 07:00:00+00', signup_ip: '2001:db8::1' },
    { email: 'gus@example.org', status: 'pending' }
  ])
  const [eve] = await database.rows<{ name: string }>(sql`SELECT name FROM subscribers WHERE email_normalized = 'eve@example.org'`)
  t.equal(eve.name, 'Eve Two Lines', 'a quoted field with a line break is read whole; a name is kept on one line')
  const ledger = await database.rows<{ email: string, method: string, details: Record<string, unknown> }>(sql`
    SELECT s.email_normalized AS email, e.method, e.details FROM consent_events e JOIN subscribers s ON s.id = e.subscriber_id
    WHERE e.type = 'import' ORDER BY 1`)
  t.equal(ledger.length, 3, 'one import event per subscription written')
  t.match(ledger[0], {
    email: 'ann@example.org',
    method: 'staff-api',
    details: { actor: 'admin-token', list: 'main', file: report.file.sha256, row: 2, status: 'confirmed', signupIp: '203.0.113.5', confirmIp: '203.0.113.6' }
  })
  t.match(ledger[2].details, { row: 10, status: 'pending', noEvidence: true })
  await outboxIdle(database)
  t.same(smtp.mails.slice(mailsBefore).map((m) => [m.envelope.to, m.parsed?.subject]), [], 'no mail went out')
})

t.test('a listmonk export saved by European Excel, then a file that would re-add someone who left', async (t) => {
  const { app, database, smtp } = await buildTestApp(t)
  const listmonk = [
    'uuid;email;name;attributes;status;created_at;updated_at',
    '5e1c…;hana@example.org;Hana;{};enabled;2022-05-01 10:00:00.123456+00;2022-05-01 10:00:00+00',
    '6f2d…;ivan@example.org;Ivan;{};blocklisted;2021-01-01 00:00:00+00;2021-01-01 00:00:00+00',
    '7a3e…;jo@example.org;Jo;{};unconfirmed;2024-01-01 00:00:00+00;2024-01-01 00:00:00+00'
  ].join('\n')
  const res = await post(app, 'list=main', listmonk, 'application/vnd.ms-excel')
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json().rows, { read: 3, added: 3, updated: 0, unchanged: 0, suppressed: 0, invalid: 0, duplicates: 0 })
  t.match(await subscriptionsOf(database), [
    { email: 'hana@example.org', status: 'confirmed' },
    { email: 'ivan@example.org', status: 'unsubscribed', method: 'import' },
    { email: 'jo@example.org', status: 'pending' }
  ])

  const again = 'email,status,confirmed_at\nivan@example.org,confirmed,2024-02-02\njo@example.org,confirmed,2024-02-02\nhana@example.org,pending,\n'
  const second = (await post(app, 'list=main', again)).json()
  t.same(second.rows, { read: 3, added: 0, updated: 1, unchanged: 1, suppressed: 1, invalid: 0, duplicates: 0 })
  t.match(second.problems, [{ line: 2, reason: /unsubscribed from this list/ }])
  t.match(await subscriptionsOf(database), [
    { email: 'hana@example.org', status: 'confirmed' },
    { email: 'ivan@example.org', status: 'unsubscribed' },
    { email: 'jo@example.org', status: 'confirmed' }
  ], 'the one who left stays out; a confirmed one is never downgraded')
  await outboxIdle(database)
  t.equal(mailsTo(smtp, 'jo@example.org').length, 0)
})

t.test("Mailchimp's unsubscribed and cleaned files keep those people out of a later audience import", async (t) => {
  const { app, database } = await buildTestApp(t)
  const unsubscribed = 'Email Address,First Name,OPTIN_TIME,UNSUB_TIME,UNSUB_CAMPAIGN_TITLE,UNSUB_REASON\n' +
    'kai@example.org,Kai,2022-01-01 00:00:00,2023-06-01 12:00:00,June news,No longer interested\n'
  const cleaned = 'Email Address,First Name,CLEAN_TIME,CLEAN_CAMPAIGN_TITLE\nlou@example.org,Lou,2023-07-01 00:00:00,July news\n'
  t.match((await post(app, 'list=main', unsubscribed)).json().rows, { added: 1 })
  t.match((await post(app, 'list=main', cleaned)).json().rows, { added: 1 })
  const rows = await database.rows<{ email: string, status: string, unsubscribed_at: string }>(sql`
    SELECT s.email_normalized AS email, p.status, p.unsubscribed_at::text FROM subscriptions p JOIN subscribers s ON s.id = p.subscriber_id ORDER BY 1`)
  t.same(rows, [
    { email: 'kai@example.org', status: 'unsubscribed', unsubscribed_at: '2023-06-01 12:00:00+00' },
    { email: 'lou@example.org', status: 'unsubscribed', unsubscribed_at: '2023-07-01 00:00:00+00' }
  ])
  const audience = 'Email Address,OPTIN_TIME,CONFIRM_TIME\nkai@example.org,2022-01-01 00:00:00,2022-01-01 00:01:00\nlou@example.org,2022-01-01 00:00:00,\n'
  const later = (await post(app, 'list=main', audience)).json()
  t.match(later.rows, { read: 2, added: 0, suppressed: 2 })
  t.match(later.problems, [{ line: 2, reason: /unsubscribed from this list/ }, { line: 3, reason: /unsubscribed from this list/ }])
})

t.test('a file that cannot be imported is refused whole, naming what is wrong', async (t) => {
  const { app, database } = await buildTestApp(t, { IMPORT_MAX_MB: '1' })
  const refused = async (query: string, body: string, status: number, message: RegExp, type?: string) => {
    const res = await post(app, query, body, type)
    t.equal(res.statusCode, status, res.body)
    t.match(res.json().message, message)
  }
  await refused('list=main', 'mail,name\nx@example.org,X\n', 400, /no email column \(found: "mail", "name"\)/)
  await refused('list=nope', 'email\nx@example.org\n', 404, /no list with the slug "nope"/)
  await app.inject({ method: 'POST', url: '/admin/api/lists', headers: staff, payload: { slug: 'old', name: 'Old' } })
  await app.inject({ method: 'PATCH', url: '/admin/api/lists/old', headers: staff, payload: { archived: true } })
  await refused('list=old', 'email\nx@example.org\n', 400, /"old" is archived/)
  const values = (await post(app, 'list=main', 'email,status,OPTIN_TIME,OPTIN_IP\nx@example.org,maybe,,\ny@example.org,,2024-02-30 10:00+02,\nz@example.org,,,300.1.1.1\n')).json()
  t.same(values.problems.map((p: { line: number, column: string }) => [p.line, p.column]), [[2, 'status'], [3, 'opt-in time'], [4, 'opt-in IP']],
    'each bad value named by line and column')
  t.match(values.rows, { read: 3, invalid: 3, added: 0 })
  await refused('list=main', 'email,name\nx@example.org,X\ny@example.org,"Y\nz@example.org,Z\n', 400, /not valid CSV at line \d/)
  await refused('list=main', '', 400, /empty/)
  const large = await app.inject({ method: 'POST', url: '/admin/api/imports?list=main', payload: 'email\n' + 'someone@example.org\n'.repeat(60_000), headers: { ...staff, 'content-type': 'text/csv' } })
  t.equal(large.statusCode, 413)
  t.match(large.json().message, /over 1 MB \(IMPORT_MAX_MB\)/)
  await refused('list=main', 'email\nx@example.org\n', 415, /text\/csv/, 'text/plain')
  await refused('dryRun=maybe&list=main', 'email\nx@example.org\n', 400, /dryRun must be true or false/)
  const [row] = await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM subscribers`)
  t.equal(row.n, 0, 'nothing was written')
})
