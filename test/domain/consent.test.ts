// Proof of consent: versioned consent texts (a copy of the wording each person was shown, as EDPB Guidelines 05/2020
// ¶108 ask), the append-only consent ledger, and the export's audit trail.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildTestApp, form, json, staff } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { linkIn, pathOf } from '../helpers/mail.js'
import { csvRecords } from '../helpers/flow.js'
import { waitUntil } from '../helpers/wait.js'
import { ensureConsentText } from '../../src/domain/consent.js'
import { sha256Hex } from '../../src/crypto.js'

/** The database's own message for a refused statement (drizzle wraps it as the cause). */
async function failure (query: Promise<unknown>): Promise<string> {
  try {
    await query
    return 'the statement succeeded'
  } catch (err) {
    const e = err as Error & { cause?: Error }
    return e.cause?.message ?? e.message
  }
}

t.test('each sign-up points to the consent text version it was shown, and a changed text is a new version', async (t) => {
  const { database } = await testDatabase(t)
  const first = await buildTestApp(t, { CONSENT_TEXT: 'Yes, email me the policy notes.' }, { database })
  await first.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'ann@example.org' }) })
  const second = await buildTestApp(t, { CONSENT_TEXT: 'Yes, email me the policy notes and event invitations.' }, { database })
  await second.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'bob@example.org' }) })
  // A third instance with the first text again reuses its version.
  const third = await buildTestApp(t, { CONSENT_TEXT: 'Yes, email me the policy notes.' }, { database })
  await third.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'cat@example.org' }) })

  const csv = csvRecords((await third.app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })).body)
  t.same(csv.map((r) => [r.email, r.consent_text_version]), [['ann@example.org', '1'], ['bob@example.org', '2'], ['cat@example.org', '1']])
  const header = (await third.app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })).body.split('\n')[0]
  t.equal(header, 'email,name,status,source,signed_up_at,signup_ip,signup_user_agent,confirmed_at,confirm_ip,unsubscribed_at,unsubscribe_url,consent_text_version,lists',
    'the contract columns keep their places; the version and the lists follow them')

  const v2 = await third.app.inject({ url: '/admin/consent-texts/2', headers: staff })
  t.equal(v2.statusCode, 200)
  t.match(v2.json(), { version: 2, text: 'Yes, email me the policy notes and event invitations.', sha256: sha256Hex('Yes, email me the policy notes and event invitations.') })
  t.match(v2.json().createdAt, /^\d{4}-\d\d-\d\dT/)
  t.equal((await third.app.inject({ url: '/admin/consent-texts/99', headers: staff })).statusCode, 404)
  t.equal((await third.app.inject({ url: '/admin/consent-texts/1' })).statusCode, 401, 'staff only')
  t.equal((await third.app.inject({ url: '/admin/consent-texts/x', headers: staff })).statusCode, 400)
})

t.test('consent text versions are immutable in the database', async (t) => {
  const { database } = await testDatabase(t)
  const version = await ensureConsentText(database, 'Original wording.')
  t.match(await failure(database.rows(sql`UPDATE consent_texts SET text = 'Rewritten wording.' WHERE version = ${version}`)), /immutable/)
  t.match(await failure(database.rows(sql`DELETE FROM consent_texts WHERE version = ${version}`)), /immutable/)
})

t.test('instances starting together register a new consent text once', async (t) => {
  const { database } = await testDatabase(t)
  const versions = await Promise.all(Array.from({ length: 6 }, () => ensureConsentText(database, 'Started together.')))
  t.equal(new Set(versions).size, 1)
  const [row] = await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM consent_texts WHERE text = 'Started together.'`)
  t.equal(Number(row.n), 1)
})

t.test('the ledger records sign-up, confirmation, unsubscribe and resubscribe with time, IP, user agent and method', async (t) => {
  const { app, smtp, database } = await buildTestApp(t, { CONFIRM_COOLDOWN_MINUTES: '0', ALLOWED_ORIGINS: 'https://council.example' })
  await app.inject({
    method: 'POST',
    url: '/subscribe',
    payload: 'email=dee%40example.org&source=footer',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Form/1.0', origin: 'https://council.example' }
  })
  const [mail] = await smtp.waitFor(1)
  await app.inject({ method: 'POST', url: pathOf(linkIn(mail, '/confirm/')), headers: { 'user-agent': 'Clicker/2.0', accept: 'application/json' } })
  const [, welcome] = await smtp.waitFor(2)
  const unsubscribeUrl = linkIn(welcome, '/unsubscribe/')
  await app.inject({ method: 'POST', url: pathOf(unsubscribeUrl), payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Provider/3.0' } })
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'dee@example.org' }) })

  const events = await database.rows<Record<string, unknown>>(sql`
    SELECT type, host(ip) AS ip, user_agent, method, details, subscriber_id FROM consent_events ORDER BY id`)
  t.same(events.map((e) => [e.type, e.method, e.user_agent]), [
    ['signup', 'form', 'Form/1.0'],
    ['confirm', 'link', 'Clicker/2.0'],
    ['unsubscribe', 'one-click', 'Provider/3.0'],
    ['resubscribe', 'api', 'lightMyRequest']
  ])
  t.ok(events.every((e) => e.ip === '127.0.0.1' && e.subscriber_id !== null))
  t.match(events[0].details, { consentTextVersion: 1, list: 'main', source: 'footer', form: 'https://council.example' })
  t.match(events[1].details, { consentTextVersion: 1 })
  t.notOk(JSON.stringify(events).includes('dee@'), 'no address in the ledger')
})

t.test('a sign-up that changes nothing (already confirmed) adds no ledger event', async (t) => {
  const { app, smtp, database } = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'eve@example.org' }) })
  const [mail] = await smtp.waitFor(1)
  await app.inject({ method: 'POST', url: pathOf(linkIn(mail, '/confirm/')), headers: { accept: 'application/json' } })
  await app.inject({ method: 'POST', url: pathOf(linkIn(mail, '/confirm/')), headers: { accept: 'application/json' } })
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'eve@example.org' }) })
  const events = await database.rows<{ type: string }>(sql`SELECT type FROM consent_events ORDER BY id`)
  t.same(events.map((e) => e.type), ['signup', 'confirm'], 'a repeat click and a repeat sign-up record nothing')
})

t.test('the ledger refuses to be rewritten or deleted', async (t) => {
  const { app, database } = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'fay@example.org' }) })
  t.match(await failure(database.rows(sql`DELETE FROM consent_events`)), /append-only/)
  t.match(await failure(database.rows(sql`UPDATE consent_events SET ip = '10.0.0.1'`)), /append-only/)
  t.match(await failure(database.rows(sql`UPDATE consent_events SET occurred_at = occurred_at - interval '1 day'`)), /append-only/)
  t.match(await failure(database.rows(sql`UPDATE consent_events SET details = '{}'`)), /append-only/)
  await database.rows(sql`UPDATE consent_events SET ip = NULL, user_agent = NULL`)
  t.pass('anonymising is allowed (erasure and retention rules)')
})

t.test('every export is in the ledger with who, when, filters and row count', async (t) => {
  const { app, database } = await buildTestApp(t)
  for (const email of ['gil@example.org', 'hal@example.org', 'ida@example.org']) {
    await app.inject({ method: 'POST', url: '/subscribe', ...json({ email, name: 'Name, with "quotes"\u0020and comma' }) })
  }
  const res = await app.inject({ url: '/admin/subscribers.csv?status=pending&since=2020-01-01', headers: staff })
  t.equal(csvRecords(res.body).length, 3)
  const basic = `Basic ${Buffer.from('jo.staff:staff-secret-for-tests-0123456789abcdef').toString('base64')}`
  await app.inject({ url: '/admin/subscribers.csv', headers: { authorization: basic } })
  const exports = () => database.rows<{ details: Record<string, unknown> }>(sql`SELECT details FROM consent_events WHERE type = 'export' ORDER BY id`)
  // The row count is written once the stream has ended, just after the response.
  await waitUntil(async () => { const e = await exports(); return e.length === 2 && e.every((x) => 'rows' in x.details) }, 10_000,
    () => 'both exports on record with their row counts')
  t.same((await exports()).map((e) => e.details), [
    { actor: 'admin-token', filters: { status: 'pending', since: '2020-01-01T00:00:00.000Z' }, rows: 3 },
    { actor: 'basic:jo.staff', filters: { status: 'confirmed', since: null }, rows: 0 }
  ])
})

t.test('the ledger counts rows, not line breaks inside quoted cells', async (t) => {
  const { app, database } = await buildTestApp(t)
  const names = ['a,b\n"x\ny"', 'he said "hi"\n', 'x\n\ny', 'plain']
  for (const [i, name] of names.entries()) {
    await database.rows(sql`INSERT INTO subscribers (email, email_normalized, mailbox, name, status)
      VALUES (${`n${i}@example.org`}, ${`n${i}@example.org`}, ${`n${i}@example.org`}, ${name}, 'pending')`)
  }
  const res = await app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })
  t.same(csvRecords(res.body).map((r) => r.name), names)
  const rows = async () => (await database.rows<{ rows: number | null }>(sql`
    SELECT (details->>'rows')::int AS rows FROM consent_events WHERE type = 'export'`))[0]?.rows
  await waitUntil(async () => await rows() != null, 10_000, () => 'the row count in the ledger')
  t.equal(await rows(), names.length)
})

t.test('the hosted form shows exactly the consent text that the sign-up is then recorded against', async (t) => {
  const { app, database } = await buildTestApp(t, { CONSENT_TEXT: 'Send me the Policy Notes newsletter (about monthly).' })
  const page = await app.inject({ url: '/?source=leaflet', headers: { accept: 'text/html' } })
  t.match(page.body, /<p class="consent">Send me the Policy Notes newsletter \(about monthly\)\.<\/p>/)
  const posted = await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'rae@example.org', source: 'leaflet' }) })
  t.equal(posted.statusCode, 303)
  t.equal((await app.inject({ url: posted.headers.location as string })).statusCode, 200)
  const [row] = await database.rows<{ text: string, method: string, source: string }>(sql`
    SELECT c.text, e.method, e.details->>'source' AS source FROM consent_events e
    JOIN consent_texts c ON c.version = (e.details->>'consentTextVersion')::int WHERE e.type = 'signup'`)
  t.same(row, { text: 'Send me the Policy Notes newsletter (about monthly).', method: 'form', source: 'leaflet' })
})
