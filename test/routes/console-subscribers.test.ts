// The staff console's subscriber pages over HTTP, per role: the search (page and JSON, filters, keyset pages, bad
// input), one subscriber (lists, consent ledger, mail), resend / unsubscribe / erase with its confirmation step, the
// mail page's retry buttons, the audit page naming the real member of staff, and `staff add` on the command line.
import t from 'tap'
import { Writable } from 'node:stream'
import { sql } from 'drizzle-orm'
import { runCli } from '../../src/cli.js'
import { SEARCH_WINDOW } from '../../src/domain/search.js'
import { buildTestApp, json, staff } from '../helpers/app.js'
import { browserFor, signedIn, STAFF_PASSWORD } from '../helpers/console.js'
import { outboxIdle, signUp, signUpAndConfirm } from '../helpers/flow.js'
import { waitForMailTo } from '../helpers/smtp.js'
import { linkIn, pathOf } from '../helpers/mail.js'
import { waitUntil } from '../helpers/wait.js'

const api = (query: string) => ({ url: `/admin/api/subscribers?${query}`, headers: { ...staff, accept: 'application/json' } })

t.test('search: partial and case-insensitive on address or name, filters, newest first, keyset pages, count', async (t) => {
  const ta = await buildTestApp(t)
  const { app, database } = ta
  await database.rows(sql`
    INSERT INTO subscribers (email, email_normalized, mailbox, name, status, source, signed_up_at)
    SELECT 'Person' || g || '@Example.org', 'person' || g || '@example.org', 'person' || g || '@example.org',
      CASE WHEN g % 2 = 0 THEN 'Ann O''Neil' ELSE 'Bob 50%_off' END,
      (ARRAY['pending', 'confirmed', 'unsubscribed'])[1 + g % 3]::subscriber_status,
      CASE WHEN g % 5 = 0 THEN 'footer' ELSE 'event' END,
      timestamptz '2026-03-01 00:00:00Z' + g * interval '1 hour' + g * interval '1 microsecond'
    FROM generate_series(1, 120) g`)
  // Each on the list `main` in the status of the row; every third also on `events`, pending.
  await app.lists.create({ slug: 'events', name: 'Events' })
  await database.rows(sql`
    INSERT INTO subscriptions (subscriber_id, list_id, status, signed_up_at)
    SELECT s.id, l.id, CASE WHEN l.slug = 'main' THEN s.status ELSE 'pending' END, s.signed_up_at
    FROM subscribers s JOIN lists l ON l.slug = 'main' OR (l.slug = 'events' AND s.id % 3 = 0)`)
  // With statistics, `main` (everyone) is checked on the rows and `events` (a third) through the index: both ways.
  await database.rows(sql`ANALYZE subscribers`)
  const all = (await app.inject(api('limit=100'))).json()
  t.equal(all.count, 120)
  t.equal(all.subscribers.length, 100)
  t.equal(all.subscribers[0].email, 'Person120@Example.org', 'newest first')
  t.equal((await app.inject(api('q=PERSON11'))).json().count, 11, 'case-insensitive, partial: person11, person110–119')
  t.equal((await app.inject(api('q=o%27neil'))).json().count, 60, 'by name')
  t.equal((await app.inject(api('q=50%25_'))).json().count, 60, '% and _ are literal')
  t.equal((await app.inject(api('q=5_%25'))).json().count, 0)
  t.equal((await app.inject(api('status=confirmed'))).json().count, 40)
  t.equal((await app.inject(api('source=footer&status=pending'))).json().count, 8)
  t.equal((await app.inject(api('since=2026-03-02&until=2026-03-02'))).json().count, 24, 'one whole day, inclusive')
  t.equal((await app.inject(api('list=main'))).json().count, 120)
  t.equal((await app.inject(api('list=events'))).json().count, 40)
  t.equal((await app.inject(api('list=events&status=confirmed'))).json().count, 0, 'with a list, the status is that list\'s')
  t.equal((await app.inject(api('list=other'))).json().count, 0)
  const seen: string[] = []
  let cursor = ''
  for (let page = 0; page < 20; page++) {
    const body = (await app.inject(api(`limit=7${cursor ? `&cursor=${cursor}` : ''}`))).json()
    seen.push(...body.subscribers.map((s: { email: string }) => s.email))
    if (!body.nextCursor) break
    cursor = body.nextCursor
  }
  t.equal(seen.length, 120, 'every row once across keyset pages')
  t.equal(new Set(seen).size, 120)
  for (const [query, field] of [['status=gone', 'status'], ['since=2026-02-30', 'since'], ['limit=0', 'limit'], ['limit=abc', 'limit'], ['since=2026-03-05&until=2026-03-01', 'since'], [`q=${'x'.repeat(201)}`, 'q']]) {
    const res = await app.inject(api(query))
    t.equal(res.statusCode, 400, query)
    t.equal(res.json().field, field, `${query}: names the field`)
  }
  const badCursor = await app.inject(api('cursor=bm9wZQ'))
  t.equal(badCursor.statusCode, 400)
  t.match(badCursor.json().message, /cursor/)
  const b = await signedIn(app, database, 'viewer')
  const pageRes = await b.request({ url: '/admin/subscribers?q=person11&status=' })
  t.equal(pageRes.statusCode, 200)
  t.match(pageRes.body, /11 subscribers match/)
  t.match(pageRes.body, /href="\/admin\/subscriber\/[0-9a-f-]{36}">Person119@Example\.org/)
})

t.test('search: matches older than the newest rows it looks through first are still found, in order, and counted', async (t) => {
  const { app, database } = await buildTestApp(t)
  // SEARCH_WINDOW + 1,500 sign-ups: the oldest 1,500 are the only "oldtimer"s and the only unsubscribed ones, so a
  // search for either finds nothing among the newest SEARCH_WINDOW and must look further.
  await database.rows(sql`
    INSERT INTO subscribers (email, email_normalized, mailbox, name, status, source, signed_up_at)
    SELECT e, e, e, CASE WHEN g <= 1500 THEN 'Oldtimer ' || g ELSE 'Newcomer ' || g END,
      CASE WHEN g <= 1500 THEN 'unsubscribed' ELSE 'confirmed' END::subscriber_status, 'footer',
      timestamptz '2025-01-01 00:00:00Z' + g * interval '1 minute'
    FROM (SELECT g, 'p' || g || '@example.org' AS e FROM generate_series(1, ${SEARCH_WINDOW + 1500}::int) g) x`)
  const old = (await app.inject(api('q=oldtimer&limit=3'))).json()
  t.same(old.subscribers.map((s: { name: string }) => s.name), ['Oldtimer 1500', 'Oldtimer 1499', 'Oldtimer 1498'], 'newest of them first')
  t.equal(old.count, 1000)
  t.equal(old.countCapped, true, 'more than 1,000 match')
  const next = (await app.inject(api(`q=oldtimer&limit=3&cursor=${old.nextCursor}`))).json()
  t.same(next.subscribers.map((s: { name: string }) => s.name), ['Oldtimer 1497', 'Oldtimer 1496', 'Oldtimer 1495'], 'the next page follows on')
  const rare = (await app.inject(api('q=oldtimer 7&status=unsubscribed&source=footer&limit=3'))).json()
  t.same(rare.subscribers.map((s: { name: string }) => s.name), ['Oldtimer 799', 'Oldtimer 798', 'Oldtimer 797'])
  t.equal(rare.count, 111, 'oldtimer 7, 70–79, 700–799 (filters rare together, each common alone)')
  t.equal((await app.inject(api('q=newcomer&status=unsubscribed'))).json().count, 0, 'common each, never together')
  const sparse = (await app.inject(api('q=00@&limit=3'))).json()
  t.same(sparse.subscribers.map((s: { email: string }) => s.email), [`p${SEARCH_WINDOW + 1500}@example.org`, `p${SEARCH_WINDOW + 1400}@example.org`, `p${SEARCH_WINDOW + 1300}@example.org`])
  t.same([sparse.count, sparse.countCapped], [(SEARCH_WINDOW + 1500) / 100, false], 'one in a hundred: a page among the newest, every match counted')
  const recent = (await app.inject(api('q=newcomer&limit=2'))).json()
  t.same(recent.subscribers.map((s: { name: string }) => s.name), [`Newcomer ${SEARCH_WINDOW + 1500}`, `Newcomer ${SEARCH_WINDOW + 1499}`])
  t.equal(recent.countCapped, true)
})

t.test('search by list follows each subscription: signed up for two lists, confirmed, then left one', async (t) => {
  const ta = await buildTestApp(t)
  const { app, database, smtp } = ta
  await app.lists.create({ slug: 'events', name: 'Events', public: true })
  const found = async (query: string) => (await app.inject(api(query))).json().subscribers.map((s: { email: string }) => s.email)
  const res = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'Lee@Example.org', lists: ['main', 'events'] }) })
  t.equal(res.statusCode, 202)
  t.same(await found('list=events&status=pending&q=lee'), ['Lee@Example.org'], 'pending on the second list at once')
  t.same(await found('list=main&status=confirmed'), [])
  const mail = await waitForMailTo(smtp, 'lee@example.org')
  await outboxIdle(database)
  const confirmed = await app.inject({ method: 'POST', url: pathOf(linkIn(mail, '/confirm/')), headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, payload: '' })
  t.ok(confirmed.statusCode < 400)
  t.same(await found('list=events&status=confirmed'), ['Lee@Example.org'], 'confirmed on both lists')
  t.same(await found('list=main&status=confirmed&q=example'), ['Lee@Example.org'])
  t.same(await found('list=events&status=pending'), [])
  const [{ public_id: id }] = await database.rows<{ public_id: string }>(sql`SELECT public_id FROM subscribers`)
  const editor = await signedIn(app, database, 'editor')
  t.equal((await editor.post(`/admin/subscriber/${id}/unsubscribe`, { list: 'events' }, `/admin/subscriber/${id}`)).statusCode, 303)
  t.same(await found('list=events&status=unsubscribed'), ['Lee@Example.org'], 'left the second list')
  t.same(await found('list=events&status=confirmed'), [])
  t.same(await found('list=main&status=confirmed'), ['Lee@Example.org'], 'still on the first')
  t.same(await found('list=events'), ['Lee@Example.org'], 'a list without a status: whoever has a subscription to it')
})

t.test('one subscriber: lists, consent ledger with wording, IP and browser, mail; resend and unsubscribe by an editor', async (t) => {
  const ta = await buildTestApp(t)
  const { app, database, smtp } = ta
  const res = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'pat@example.org', name: 'Pat', source: 'footer' }), headers: { ...json({}).headers, 'user-agent': 'PatBrowser/1.0' } })
  t.equal(res.statusCode, 202)
  await waitForMailTo(smtp, 'pat@example.org')
  await outboxIdle(database)
  const [{ public_id: id }] = await database.rows<{ public_id: string }>(sql`SELECT public_id FROM subscribers`)
  const editor = await signedIn(app, database, 'editor')
  const page = await editor.request({ url: `/admin/subscriber/${id}` })
  t.equal(page.statusCode, 200)
  t.match(page.body, /<h1>pat@example\.org<\/h1>/)
  t.match(page.body, /PatBrowser\/1\.0/)
  t.match(page.body, /127\.0\.0\.1/)
  t.match(page.body, ta.config.consentText.slice(0, 30), 'what they agreed to, word for word')
  t.match(page.body, /confirmation<\/td><td>sent/)
  const resent = await editor.post(`/admin/subscriber/${id}/resend`, {}, `/admin/subscriber/${id}`)
  t.equal(resent.statusCode, 303)
  t.equal(resent.headers.location, `/admin/subscriber/${id}?done=resent`)
  const mail = await waitForMailTo(smtp, 'pat@example.org', 2)
  const confirmed = await app.inject({ method: 'POST', url: pathOf(linkIn(mail, '/confirm/')), headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, payload: '' })
  t.ok(confirmed.statusCode < 400, 'the resent link confirms')
  const unsub = await editor.post(`/admin/subscriber/${id}/unsubscribe`, { list: 'main' }, `/admin/subscriber/${id}`)
  t.equal(unsub.statusCode, 303)
  const after = await editor.request({ url: `/admin/subscriber/${id}?done=unsubscribed` })
  t.match(after.body, /Unsubscribed\. Mail that was waiting/)
  t.match(after.body, /unsubscribe<\/td><td>staff-api by staff:editor@staff\.example\.org/)
  t.equal((await editor.request({ url: '/admin/subscriber/00000000-0000-4000-8000-000000000000' })).statusCode, 404)
  t.equal((await editor.request({ url: '/admin/subscriber/nope' })).statusCode, 400)
})

t.test('erase: a confirmation step naming what goes; an editor erases, a viewer is refused; the audit page names who', async (t) => {
  const ta = await buildTestApp(t)
  const { app, database } = ta
  await signUpAndConfirm(ta, 'sam@example.org', { name: 'Sam' })
  const [{ public_id: id }] = await database.rows<{ public_id: string }>(sql`SELECT public_id FROM subscribers`)
  const viewer = await signedIn(app, database, 'viewer')
  const viewerPage = await viewer.request({ url: `/admin/subscriber/${id}` })
  t.notMatch(viewerPage.body, /Erase this subscriber/, 'a viewer is not offered the action')
  t.equal((await viewer.request({ url: `/admin/subscriber/${id}/erase` })).statusCode, 403)
  const refused = await viewer.post(`/admin/subscriber/${id}/erase`, {}, `/admin/subscriber/${id}`)
  t.equal(refused.statusCode, 403)
  t.match(refused.body, /needs the editor role/)
  const editor = await signedIn(app, database, 'editor')
  const confirm = await editor.request({ url: `/admin/subscriber/${id}/erase` })
  t.equal(confirm.statusCode, 200)
  t.match(confirm.body, /Erase sam@example\.org\?/)
  t.match(confirm.body, /the subscriber sam@example\.org \(Sam\)/)
  t.match(confirm.body, /2 queued or sent mails/)
  const erased = await editor.post(`/admin/subscriber/${id}/erase`, {}, `/admin/subscriber/${id}/erase`)
  t.equal(erased.statusCode, 303)
  t.equal(erased.headers.location, '/admin/subscribers?erased=1')
  t.equal((await database.rows(sql`SELECT 1 FROM subscribers`)).length, 0)
  const audit = await viewer.request({ url: '/admin/audit?action=erasure' })
  t.match(audit.body, /staff:editor@staff\.example\.org<\/td><td>erasure/)
  const byWho = await viewer.request({ url: '/admin/audit?actor=editor%40staff' })
  t.match(byWho.body, /login/)
  t.equal((await viewer.request({ url: '/admin/audit?action=bogus' })).statusCode, 400)
})

t.test('roles on the owner pages and on JSON routes; an owner invites, changes a role, the link signs them in', async (t) => {
  const { app, database } = await buildTestApp(t)
  const editor = await signedIn(app, database, 'editor')
  for (const url of ['/admin/staff', '/admin/keys']) t.equal((await editor.request({ url })).statusCode, 403, `${url}: owners only`)
  t.equal((await editor.request({ url: '/admin/api/subscribers', headers: { accept: 'application/json' } })).statusCode, 200)
  const owner = await signedIn(app, database, 'owner')
  const invited = await owner.post('/admin/staff', { email: 'New.Person@staff.example.org', role: 'viewer' })
  t.equal(invited.statusCode, 201)
  const link = /(https:\/\/news\.example\.org\/admin\/password\/[A-Za-z0-9_-]+)/.exec(invited.body)![1]
  t.equal((await owner.post('/admin/staff', { email: 'new.person@staff.example.org', role: 'viewer' })).statusCode, 400, 'no second account')
  t.equal((await owner.post('/admin/staff', { email: 'not an address', role: 'viewer' })).statusCode, 400)
  const [{ id }] = await database.rows<{ id: number }>(sql`SELECT id FROM staff_accounts WHERE email_normalized = 'new.person@staff.example.org'`)
  t.equal((await owner.post(`/admin/staff/${id}/role`, { role: 'editor' }, '/admin/staff')).statusCode, 303)
  const newcomer = browserFor(app)
  t.equal((await newcomer.post(pathOf(link), { password: STAFF_PASSWORD })).statusCode, 303)
  t.equal((await newcomer.post('/admin/login', { email: 'new.person@staff.example.org', password: STAFF_PASSWORD })).statusCode, 303)
  t.match((await newcomer.request({ url: '/admin' })).body, /\(editor\)/)
  const keys = await owner.post('/admin/keys', { name: 'sending tool', role: 'viewer', days: '' })
  t.equal(keys.statusCode, 201)
  t.match(keys.body, /jl_[A-Za-z0-9_-]{43}/)
  t.match((await owner.request({ url: '/admin/staff' })).body, /New\.Person@staff\.example\.org/)
})

t.test('the mail page lists dead mail and its retry buttons put it back; viewers see it without the buttons', async (t) => {
  const { app, database, smtp } = await buildTestApp(t)
  smtp.failWith = 550
  await signUp(app, 'bounce@example.org')
  await waitUntil(async () => (await database.rows(sql`SELECT 1 FROM outbox WHERE status = 'dead'`)).length === 1)
  const viewer = await signedIn(app, database, 'viewer')
  const seen = await viewer.request({ url: '/admin/mail' })
  t.match(seen.body, /confirmation #\d+/)
  t.notMatch(seen.body, /bounce@example\.org/, 'addresses masked')
  t.notMatch(seen.body, /Retry all dead mail/)
  smtp.failWith = undefined
  const editor = await signedIn(app, database, 'editor')
  const retried = await editor.post('/admin/mail/retry-all', {}, '/admin/mail')
  t.equal(retried.statusCode, 303)
  t.equal(retried.headers.location, '/admin/mail?requeued=1')
  await waitForMailTo(smtp, 'bounce@example.org')
  t.equal((await editor.post('/admin/mail/999/retry', {}, '/admin/mail')).statusCode, 404)
})

t.test('staff add on the command line prints a one-time link; bad use is a usage error', async (t) => {
  const { app, database, config } = await buildTestApp(t)
  const capture = () => { let text = ''; return { stream: new Writable({ write (c, _e, cb) { text += c; cb() } }), text: () => text } }
  const out = capture()
  const code = await runCli(['staff', 'add', 'chief@staff.example.org', '--role', 'owner'], { database, config, stdout: out.stream, stderr: capture().stream, user: 'ops' })
  t.equal(code, 0)
  const link = /https:\/\/news\.example\.org(\/admin\/password\/\S+)/.exec(out.text())![1]
  const b = browserFor(app)
  t.equal((await b.post(link, { password: STAFF_PASSWORD })).statusCode, 303)
  t.equal((await b.post('/admin/login', { email: 'chief@staff.example.org', password: STAFF_PASSWORD })).statusCode, 303)
  t.match((await b.request({ url: '/admin/staff' })).body, /chief@staff\.example\.org/)
  const err = capture()
  t.equal(await runCli(['staff', 'add', 'x@example.org', '--role', 'king'], { database, config, stdout: capture().stream, stderr: err.stream }), 2)
  t.match(err.text(), /--role owner\|editor\|viewer/)
  t.equal(await runCli(['staff', 'add', 'chief@staff.example.org', '--role', 'viewer'], { database, config, stdout: capture().stream, stderr: capture().stream }), 1)
})
