// Data-subject rights over HTTP and SMTP: subject access, erasure (staff and self-service), a suppression entry
// instead of deletion after an objection (ICO, "Respect people's preferences"), and the resubscribe rules (GDPR
// Art. 7(3), 15, 17).
import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildTestApp, form, json, staff, type TestApp, TOKEN_SECRET } from '../helpers/app.js'
import { linkIn, pathOf } from '../helpers/mail.js'
import { csvRecords, outboxIdle, signUpAndConfirm } from '../helpers/flow.js'
import { waitForMailTo } from '../helpers/smtp.js'
import { isSuppressed, suppressionHash } from '../../src/domain/suppression.js'

/** Signs up with a name and a source, confirms from the mail in another browser, and returns the welcome mail's link. */
async function confirmedWithWelcome (ta: TestApp, email: string) {
  await signUpAndConfirm(ta, email, { name: 'Jane Doe', source: 'footer' }, { 'user-agent': 'Clicker/1.0' })
  return { unsubscribeUrl: linkIn(await waitForMailTo(ta.smtp, email, 2), '/unsubscribe/') }
}

const events = (database: TestApp['database']) => database.rows<{ type: string, subscriber_id: number | null, ip: string | null, user_agent: string | null, method: string, details: Record<string, unknown> }>(
  sql`SELECT type, subscriber_id, host(ip) AS ip, user_agent, method, details FROM consent_events ORDER BY id`)

t.test('staff see everything held about an address with its ledger, and each lookup is itself recorded', async (t) => {
  const ta = await buildTestApp(t)
  const { app, database } = ta
  await confirmedWithWelcome(ta, 'Jane.Doe@Example.org')

  const res = await app.inject({ url: '/admin/subscribers/JANE.DOE%40example.ORG', headers: { ...staff, 'user-agent': 'StaffBrowser' } })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json()
  t.match(body.subscriber, {
    email: 'Jane.Doe@Example.org',
    email_normalized: 'jane.doe@example.org',
    name: 'Jane Doe',
    status: 'confirmed',
    source: 'footer',
    signup_ip: '127.0.0.1',
    signup_user_agent: 'lightMyRequest',
    confirm_ip: '127.0.0.1',
    confirm_user_agent: 'Clicker/1.0',
    consent_text_version: 1,
    has_confirm_token: true
  })
  t.notOk('confirm_token_hash' in body.subscriber, 'no token hash in the answer')
  t.same(body.events.map((e: { type: string }) => e.type), ['signup', 'confirm', 'access'], 'this lookup is on record too')
  t.match(body.consentTexts, [{ version: 1, text: /I agree to receive emails from Policy Notes/ }])
  t.same(body.outbox.map((m: { kind: string }) => m.kind), ['confirmation', 'welcome'])
  t.equal(body.suppressed, false)

  const unknown = await app.inject({ url: '/admin/subscribers/nobody%40example.org', headers: staff })
  t.equal(unknown.statusCode, 404)
  t.equal((await app.inject({ url: '/admin/subscribers/not-an-address', headers: staff })).statusCode, 400)
  t.equal((await app.inject({ url: '/admin/subscribers/jane.doe%40example.org' })).statusCode, 401)

  const access = (await events(database)).filter((e) => e.type === 'access')
  t.same(access.map((e) => [e.subscriber_id !== null, e.details, e.user_agent]), [
    [true, { actor: 'admin-token', found: true }, 'StaffBrowser'],
    [false, { actor: 'admin-token', found: false }, 'lightMyRequest']
  ])
})

t.test('staff erasure removes personal data, keeping a suppression hash and an anonymised ledger', async (t) => {
  const ta = await buildTestApp(t)
  const { app, database } = ta
  await confirmedWithWelcome(ta, 'kim@example.org')
  await confirmedWithWelcome(ta, 'lee@example.org')

  const res = await app.inject({ method: 'DELETE', url: '/admin/subscribers/Kim%40Example.org', headers: staff })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'erased', held: true, suppressed: true })
  t.equal((await app.inject({ method: 'DELETE', url: '/admin/subscribers/kim%40example.org', headers: staff })).json().held, false, 'repeating is harmless')
  t.equal((await app.inject({ method: 'DELETE', url: '/admin/subscribers/kim%40example.org' })).statusCode, 401)

  const rows = await database.rows<{ email: string }>(sql`SELECT email FROM subscribers`)
  t.same(rows.map((r) => r.email), ['lee@example.org'])
  const [outbox] = await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.id = o.subscriber_id)`)
  t.equal(Number(outbox.n), 0, 'their mail went with them')
  const ledger = await events(database)
  const orphaned = ledger.filter((e) => e.subscriber_id === null && ['signup', 'confirm'].includes(e.type))
  t.equal(orphaned.length, 2, 'their consent events remain, anonymised')
  t.ok(orphaned.every((e) => e.ip === null && e.user_agent === null))
  const erasures = ledger.filter((e) => e.type === 'erasure')
  t.match(erasures[0], { method: 'staff-api', ip: '127.0.0.1', details: { actor: 'admin-token', found: true, anonymisedEvents: 2 } })
  t.match(erasures[1].details, { found: false, anonymisedEvents: 0 })
  t.notOk(JSON.stringify(ledger).includes('kim'), 'no trace of the address in the ledger')

  t.ok(await isSuppressed(database, { current: TOKEN_SECRET }, 'kim@example.org'), 'the suppression list holds the HMAC of the address')
  const [suppression] = await database.rows<{ email_hash: string }>(sql`SELECT email_hash FROM suppressions`)
  t.equal(suppression.email_hash, suppressionHash(TOKEN_SECRET, 'kim@example.org').hash)

  const access = await app.inject({ url: '/admin/subscribers/kim%40example.org', headers: staff })
  t.match(access.json(), { subscriber: null, events: [], suppressed: true })
  const csv = csvRecords((await app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })).body)
  t.same(csv.map((r) => r.email), ['lee@example.org'])
})

t.test('staff erasing an address that is not held still suppresses it', async (t) => {
  const { app, database } = await buildTestApp(t)
  const res = await app.inject({ method: 'DELETE', url: '/admin/subscribers/objector%40example.org', headers: staff })
  t.same(res.json(), { status: 'erased', held: false, suppressed: true })
  t.ok(await isSuppressed(database, { current: TOKEN_SECRET }, 'objector@example.org'))
})

t.test('an erased address that signs up again is treated as new, and confirming ends its suppression', async (t) => {
  const ta = await buildTestApp(t)
  const { app, smtp, database } = ta
  await confirmedWithWelcome(ta, 'max@example.org')
  await app.inject({ method: 'DELETE', url: '/admin/subscribers/max%40example.org', headers: staff })

  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'max@example.org' }) })
  const [, , confirmation] = await smtp.waitFor(3)
  t.same(confirmation.envelope.to, ['max@example.org'], 'the person may opt in again themselves')
  let access = (await app.inject({ url: '/admin/subscribers/max%40example.org', headers: staff })).json()
  t.match(access, { subscriber: { status: 'pending', name: null }, suppressed: true })
  t.same(access.events.map((e: { type: string }) => e.type), ['signup', 'access'], 'a new subscriber: no resubscribe, no old history')

  await app.inject({ method: 'POST', url: pathOf(linkIn(confirmation, '/confirm/')), headers: { accept: 'application/json' } })
  access = (await app.inject({ url: '/admin/subscribers/max%40example.org', headers: staff })).json()
  t.match(access, { subscriber: { status: 'confirmed' }, suppressed: false })
  t.notOk(await isSuppressed(database, { current: TOKEN_SECRET }, 'max@example.org'))
})

t.test('an unsubscribed address gets mail again only after signing up and confirming again, with both consents in the ledger', async (t) => {
  const ta = await buildTestApp(t, { CONFIRM_COOLDOWN_MINUTES: '0' })
  const { app, smtp, database } = ta
  const { unsubscribeUrl } = await confirmedWithWelcome(ta, 'ned@example.org')
  // The welcome mail has arrived; its outbox row is marked sent a moment later (sent marks are grouped).
  await outboxIdle(database)
  await app.inject({ method: 'POST', url: pathOf(unsubscribeUrl), ...form({}) })
  const [queued] = await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM outbox WHERE status IN ('pending', 'sending')`)
  t.equal(Number(queued.n), 0, 'nothing is queued for them')

  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'ned@example.org' }) })
  const [, , confirmation] = await smtp.waitFor(3)
  t.match(confirmation.parsed.subject, /Confirm your subscription/)
  let csv = csvRecords((await app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })).body)
  t.equal(csv[0].status, 'unsubscribed', 'signing up again alone does not put them back on the list')

  await app.inject({ method: 'POST', url: pathOf(linkIn(confirmation, '/confirm/')), headers: { accept: 'application/json' } })
  const [, , , welcome] = await smtp.waitFor(4)
  t.match(welcome.parsed.subject, /Welcome/)
  csv = csvRecords((await app.inject({ url: '/admin/subscribers.csv', headers: staff })).body)
  t.match(csv, [{ email: 'ned@example.org', status: 'confirmed', unsubscribed_at: '' }])
  const ledger = (await events(database)).filter((e) => e.type !== 'export')
  t.same(ledger.map((e) => [e.type, e.method]), [['signup', 'api'], ['confirm', 'link'], ['unsubscribe', 'link'], ['resubscribe', 'api'], ['confirm', 'link']])
})

t.test('a subscriber can also delete their data from the unsubscribe page, through its own step, and only by pressing that button', async (t) => {
  const ta = await buildTestApp(t)
  const { app, database } = ta
  const { unsubscribeUrl } = await confirmedWithWelcome(ta, 'ola@example.org')
  const page = await app.inject({ url: pathOf(unsubscribeUrl), headers: { accept: 'text/html' } })
  t.match(page.body, /<button type="submit">Unsubscribe<\/button>/)
  t.match(page.body, `<a href="${pathOf(unsubscribeUrl)}/erase">Unsubscribe and delete my data</a>`)
  const step = await app.inject({ url: `${pathOf(unsubscribeUrl)}/erase`, headers: { accept: 'text/html' } })
  t.match(step.body, /<input type="hidden" name="erase" value="1">\s*<button type="submit" class="warning">Delete my data<\/button>/)
  t.equal((await database.rows(sql`SELECT 1 FROM subscribers`)).length, 1, 'opening the step changes nothing')

  // A one-click POST (what mailbox providers send) or a plain form submit never erases.
  await app.inject({ method: 'POST', url: pathOf(unsubscribeUrl), payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal((await database.rows(sql`SELECT 1 FROM subscribers`)).length, 1)

  const erased = await app.inject({ method: 'POST', url: pathOf(unsubscribeUrl), ...form({ erase: '1' }) })
  t.equal(erased.statusCode, 200)
  t.match(erased.body, /Your data is deleted/)
  t.equal((await database.rows(sql`SELECT 1 FROM subscribers`)).length, 0)
  t.ok(await isSuppressed(database, { current: TOKEN_SECRET }, 'ola@example.org'))
  const erasure = (await events(database)).find((e) => e.type === 'erasure')
  t.match(erasure, { method: 'self-service', ip: null, user_agent: null, details: { actor: 'subscriber', found: true } })

  const again = await app.inject({ method: 'POST', url: pathOf(unsubscribeUrl), ...form({ erase: '1' }) })
  t.equal(again.statusCode, 404, 'the link no longer belongs to anyone')
})
