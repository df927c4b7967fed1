// Several lists: staff manage them (JSON API), visitors choose them on the form or on a list's own page, one
// confirmation mail confirms every list chosen, each list's mail leaves that list only, the preference page changes
// the choice, and the export has a row per subscription. With one list, nothing looks different.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildTestApp, form, json, staff, type TestApp } from '../helpers/app.js'
import { csvRecords, exportRows, outboxIdle, signUpAndConfirm } from '../helpers/flow.js'
import { linkIn, valueOf } from '../helpers/mail.js'
import { mailsTo, waitForMailTo, type ReceivedMail } from '../helpers/smtp.js'

const JSON_ACCEPT = { accept: 'application/json' }
/** Path and query of a link in a mail, to inject() it. */
const target = (url: string) => { const u = new URL(url); return u.pathname + u.search }

async function createList (ta: TestApp, body: Record<string, unknown>) {
  const res = await ta.app.inject({ method: 'POST', url: '/admin/api/lists', headers: staff, payload: body })
  if (res.statusCode !== 201) throw new Error(`creating a list answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

/** An app with the default list (`main`, "Policy Notes") and a second public list, `events`. */
async function twoLists (t: Parameters<typeof buildTestApp>[0], env: Record<string, string> = {}) {
  const ta = await buildTestApp(t, env)
  await createList(ta, { slug: 'events', name: 'Event invitations', description: 'Talks and launches, about once a month.' })
  return ta
}

async function subscribe (ta: TestApp, email: string, lists?: string[]) {
  const res = await ta.app.inject({ method: 'POST', url: '/subscribe', ...json({ email, ...(lists ? { lists } : {}) }) })
  if (res.statusCode !== 202) throw new Error(`sign-up answered ${res.statusCode}: ${res.body}`)
  return res
}

async function confirmFrom (ta: TestApp, mail: ReceivedMail) {
  const res = await ta.app.inject({ method: 'POST', url: target(linkIn(mail, '/confirm/')), headers: JSON_ACCEPT })
  if (res.statusCode !== 200) throw new Error(`confirming answered ${res.statusCode}: ${res.body}`)
}

/** Each list's status for this address, from the per-list export. */
async function statuses (ta: TestApp, email: string): Promise<Record<string, string>> {
  const rows = await exportRows(ta.app, 'status=all&list=main&list=events')
  return Object.fromEntries(rows.filter((r) => r.email === email).map((r) => [r.list, r.status]))
}

t.test('staff create, rename and archive lists over the JSON API', async (t) => {
  const ta = await buildTestApp(t)
  const listed = await ta.app.inject({ url: '/admin/api/lists', headers: staff })
  t.equal(listed.statusCode, 200)
  t.match(listed.json().lists, [{ slug: 'main', name: 'Policy Notes', public: true, isDefault: true, archivedAt: null }],
    'the list every deployment starts with, named from LIST_NAME')

  const created = await createList(ta, { slug: 'events', name: 'Event invitations', public: false })
  t.match(created, { slug: 'events', name: 'Event invitations', public: false, isDefault: false, subscriptions: { confirmed: 0 } })

  const renamed = await ta.app.inject({ method: 'PATCH', url: '/admin/api/lists/events', headers: staff, payload: { name: 'Events' } })
  t.equal(renamed.json().name, 'Events')
  const archived = await ta.app.inject({ method: 'PATCH', url: '/admin/api/lists/events', headers: staff, payload: { archived: true } })
  t.type(archived.json().archivedAt, 'string')
  const one = await ta.app.inject({ url: '/admin/api/lists/events', headers: staff })
  t.match(one.json(), { slug: 'events', name: 'Events' })
})

t.test('bad list changes get a 4xx that says what to fix, and change nothing', async (t) => {
  const ta = await buildTestApp(t)
  const post = (payload: object) => ta.app.inject({ method: 'POST', url: '/admin/api/lists', headers: staff, payload })
  const badSlug = await post({ slug: 'Bad Slug!', name: 'x' })
  t.equal(badSlug.statusCode, 400)
  t.match(badSlug.json().message, /slug/)
  t.equal((await post({ slug: 'main', name: 'Again' })).statusCode, 409, 'a slug already taken')
  t.equal((await post({ slug: 'x', name: '' })).statusCode, 400, 'an empty name')
  t.equal((await post({ slug: 'x', name: 'X', colour: 'red' })).statusCode, 400, 'an unknown field')
  const missing = await ta.app.inject({ method: 'PATCH', url: '/admin/api/lists/nope', headers: staff, payload: { name: 'X' } })
  t.equal(missing.statusCode, 404)
  const lastDefault = await ta.app.inject({ method: 'PATCH', url: '/admin/api/lists/main', headers: staff, payload: { archived: true } })
  t.equal(lastDefault.statusCode, 409, 'archiving the only default list would leave the form with nothing to join')
  t.match(lastDefault.json().message, /default/)
  const hidden = await ta.app.inject({ method: 'PATCH', url: '/admin/api/lists/main', headers: staff, payload: { public: false } })
  t.equal(hidden.statusCode, 409, 'so would hiding it')
  const lists = (await ta.app.inject({ url: '/admin/api/lists', headers: staff })).json().lists
  t.same(lists.map((l: { slug: string, archivedAt: string | null, public: boolean }) => [l.slug, l.archivedAt, l.public]), [['main', null, true]])
  t.equal((await ta.app.inject({ url: '/admin/api/lists' })).statusCode, 401, 'staff only')
})

t.test('another default list lets staff archive the first one, and sign-ups then join the new default', async (t) => {
  const ta = await twoLists(t)
  await ta.app.inject({ method: 'PATCH', url: '/admin/api/lists/events', headers: staff, payload: { isDefault: true } })
  const archived = await ta.app.inject({ method: 'PATCH', url: '/admin/api/lists/main', headers: staff, payload: { archived: true } })
  t.equal(archived.statusCode, 200)
  await signUpAndConfirm(ta, 'after@example.org')
  t.same(await statuses(ta, 'after@example.org'), { events: 'confirmed' })
  const refused = await ta.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'x@example.org', lists: ['main'] }) })
  t.equal(refused.statusCode, 400, 'an archived list takes no sign-ups')
})

t.test('with one list the form, the mails and the export look as they always did', async (t) => {
  const ta = await buildTestApp(t)
  const page = await ta.app.inject({ url: '/' })
  t.notMatch(page.body, /type="checkbox"/, 'no choice of lists')
  const mail = await signUpAndConfirm(ta, 'single@example.org')
  t.notMatch(mail.parsed.text, /manage/, 'no preference page link')
  t.match(mail.parsed.subject, /Policy Notes/)
  const welcome = await waitForMailTo(ta.smtp, 'single@example.org', 2)
  t.notMatch(valueOf(welcome.raw, 'List-Unsubscribe') ?? '', /\?list=/, 'the one-click link is the same as before')
  const [row] = await exportRows(ta.app)
  t.match(row, { email: 'single@example.org', status: 'confirmed', lists: 'main' })
})

t.test('a two-list sign-up gets one mail naming both, and confirming it confirms both', async (t) => {
  const ta = await twoLists(t)
  const email = 'both@example.org'
  await subscribe(ta, email, ['main', 'events'])
  const mail = await waitForMailTo(ta.smtp, email)
  t.match(mail.parsed.subject, /Policy Notes, Event invitations/)
  t.match(mail.parsed.text, /Policy Notes, Event invitations/)
  t.match(mail.parsed.text, /\/manage\//, 'the preference page is linked')
  t.same(await statuses(ta, email), { main: 'pending', events: 'pending' })
  await confirmFrom(ta, mail)
  t.same(await statuses(ta, email), { main: 'confirmed', events: 'confirmed' })
  await outboxIdle(ta.database)
  const welcomes = mailsTo(ta.smtp, email).slice(1)
  t.equal(welcomes.length, 2, 'a welcome mail from each list')
  const ids = welcomes.map((m) => valueOf(m.raw, 'List-Id')).sort()
  t.match(ids[0], /event-invitations\.mail\.example\.org/)
  t.match(ids[1], /policy-notes\.mail\.example\.org/)
  const events = await ta.database.rows<{ type: string, list: string }>(sql`
    SELECT e.type, l.slug AS list FROM consent_events e JOIN lists l ON l.id = e.list_id ORDER BY e.id`)
  t.same(events.map((e) => `${e.type}:${e.list}`).sort(), ['confirm:events', 'confirm:main', 'signup:events', 'signup:main'],
    'each subscription has its own ledger rows')
})

t.test('adding a list to a confirmed address confirms the new list only', async (t) => {
  const ta = await twoLists(t)
  const email = 'later@example.org'
  await signUpAndConfirm(ta, email)
  await outboxIdle(ta.database)
  const before = mailsTo(ta.smtp, email).length
  await subscribe(ta, email, ['events'])
  const mail = await waitForMailTo(ta.smtp, email, before + 1)
  t.match(mail.parsed.subject, /Event invitations/)
  t.notMatch(mail.parsed.subject, /Policy Notes/, 'the list already confirmed is not asked about again')
  t.same(await statuses(ta, email), { main: 'confirmed', events: 'pending' })
  await confirmFrom(ta, mail)
  t.same(await statuses(ta, email), { main: 'confirmed', events: 'confirmed' })
  await outboxIdle(ta.database)
  t.equal(mailsTo(ta.smtp, email).length, before + 2, 'one welcome, from the new list')

  const again = mailsTo(ta.smtp, email).length
  await subscribe(ta, email, ['main', 'events'])
  await outboxIdle(ta.database)
  t.equal(mailsTo(ta.smtp, email).length, again, 'confirmed on every list asked for: no mail')
})

t.test('the cooldown bounds the mails one address gets, whatever the lists', async (t) => {
  const ta = await twoLists(t)
  await subscribe(ta, 'busy@example.org', ['main'])
  await subscribe(ta, 'busy@example.org', ['events'])
  await outboxIdle(ta.database)
  t.equal(mailsTo(ta.smtp, 'busy@example.org').length, 1)
})

t.test('unknown, hidden and archived lists get a 400 that names them, and nothing is stored', async (t) => {
  const ta = await twoLists(t)
  await createList(ta, { slug: 'staff-only', name: 'Staff only', public: false })
  const res = await ta.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'x@example.org', lists: ['main', 'nope', 'staff-only'] }) })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { error: 'invalid_lists', message: /nope, staff-only/ })
  const wrongType = await ta.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'x@example.org', lists: [1] }) })
  t.equal(wrongType.statusCode, 400)
  t.match(wrongType.json().message, /lists/)
  const [{ n }] = await ta.database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM subscribers`)
  t.equal(n, 0)
})

t.test('the form offers public lists as checkboxes and signs up for the ones ticked', async (t) => {
  const ta = await twoLists(t, { FORM_MIN_SECONDS: '0' })
  await createList(ta, { slug: 'staff-only', name: 'Staff only', public: false })
  const page = await ta.app.inject({ url: '/' })
  t.match(page.body, /<fieldset aria-describedby="lists-hint">\s*<legend>Which emails would you like\?<\/legend>/)
  t.match(page.body, /<input type="checkbox" name="lists" value="main" id="lists" checked/, 'the default list is ticked')
  t.match(page.body, /<input type="checkbox" name="lists" value="events" id="lists-events" aria-describedby="lists-events-hint">/)
  t.match(page.body, /Talks and launches/)
  t.notMatch(page.body, /staff-only/, 'hidden lists are not offered')

  const payload = 'email=ticked%40example.org&lists_shown=1&lists=events'
  const res = await ta.app.inject({ method: 'POST', url: '/subscribe', payload, headers: form({}).headers })
  t.equal(res.statusCode, 303)
  const mail = await waitForMailTo(ta.smtp, 'ticked@example.org')
  t.match(mail.parsed.subject, /Event invitations/)
  t.notMatch(mail.parsed.subject, /Policy Notes/)
})

t.test('a form with no list ticked, or a list that cannot be joined, comes back with the error linked', async (t) => {
  const ta = await twoLists(t, { FORM_MIN_SECONDS: '0' })
  const none = await ta.app.inject({ method: 'POST', url: '/subscribe', payload: 'email=none%40example.org&lists_shown=1', headers: form({}).headers })
  t.equal(none.statusCode, 400)
  t.match(none.body, /<a href="#lists">Choose at least one list to join.<\/a>/, 'the error summary links to the first checkbox')
  t.match(none.body, /id="lists-error"/)
  t.match(none.body, /value="none@example.org"/, 'what was typed is kept')
  const bad = await ta.app.inject({ method: 'POST', url: '/subscribe', payload: 'email=bad%40example.org&lists_shown=1&lists=nope', headers: form({}).headers })
  t.equal(bad.statusCode, 400)
  t.match(bad.body, /cannot be joined here: nope/)
  await outboxIdle(ta.database)
  t.equal(ta.smtp.mails.length, 0)
})

t.test('a list has its own page at /l/<slug> that joins only that list', async (t) => {
  const ta = await twoLists(t, { FORM_MIN_SECONDS: '0' })
  const page = await ta.app.inject({ url: '/l/events' })
  t.equal(page.statusCode, 200)
  // The heading is the same on every form; the list's name is the brand, in the header and the title.
  t.match(page.body, /<title>Sign up for emails – Event invitations<\/title>/)
  t.match(page.body, /<input type="hidden" name="lists" value="events">/)
  t.notMatch(page.body, /type="checkbox"/)
  const res = await ta.app.inject({ method: 'POST', url: '/subscribe', payload: 'email=page%40example.org&lists=events', headers: form({}).headers })
  t.equal(res.statusCode, 303)
  const mail = await waitForMailTo(ta.smtp, 'page@example.org')
  t.match(mail.parsed.subject, /Event invitations/)
  await createList(ta, { slug: 'hidden', name: 'Hidden', public: false })
  t.equal((await ta.app.inject({ url: '/l/hidden' })).statusCode, 404, 'hidden lists have no page')
  t.equal((await ta.app.inject({ url: '/l/nope' })).statusCode, 404)
})

t.test("a list's mail leaves that list only by one click, and its page offers leaving all", async (t) => {
  const ta = await twoLists(t)
  const email = 'oneclick@example.org'
  await subscribe(ta, email, ['main', 'events'])
  await confirmFrom(ta, await waitForMailTo(ta.smtp, email))
  await outboxIdle(ta.database)
  const eventsWelcome = mailsTo(ta.smtp, email).find((m) => /event-invitations/.test(valueOf(m.raw, 'List-Id') ?? ''))!
  const link = /<(https:[^>]+)>/.exec(valueOf(eventsWelcome.raw, 'List-Unsubscribe')!)![1]
  t.match(link, /\?list=events$/)

  const page = await ta.app.inject({ url: target(link), headers: { accept: 'text/html' } })
  t.match(page.body, /stop emails from the list “Event invitations”/)
  t.match(page.body, /name="all" value="1"/, 'leave all lists is offered')
  t.match(page.body, /href="\/manage\//, 'and the preference page')
  t.same(await statuses(ta, email), { main: 'confirmed', events: 'confirmed' }, 'showing the page changed nothing')

  const res = await ta.app.inject({ method: 'POST', url: target(link), payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(res.statusCode, 200)
  t.same(await statuses(ta, email), { main: 'confirmed', events: 'unsubscribed' })
  const [method] = await ta.database.rows<{ unsubscribe_method: string }>(sql`
    SELECT p.unsubscribe_method FROM subscriptions p JOIN lists l ON l.id = p.list_id WHERE l.slug = 'events'`)
  t.equal(method.unsubscribe_method, 'one-click')

  const all = await ta.app.inject({ method: 'POST', url: target(link), payload: 'all=1', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' } })
  t.equal(all.statusCode, 200)
  t.same(await statuses(ta, email), { main: 'unsubscribed', events: 'unsubscribed' })
})

t.test('the preference page shows the lists, and only its POST changes them', async (t) => {
  const ta = await twoLists(t)
  const email = 'prefs@example.org'
  const mail = await signUpAndConfirm(ta, email)
  const manage = target(linkIn(mail, '/manage/'))
  const page = await ta.app.inject({ url: manage, headers: { accept: 'text/html' } })
  t.equal(page.statusCode, 200)
  t.match(page.body, /<input type="checkbox" name="lists" value="main" id="lists" checked>/)
  t.match(page.body, /<input type="checkbox" name="lists" value="events" id="lists-events">/)
  t.same(await statuses(ta, email), { main: 'confirmed' }, 'a scanner fetching the link changes nothing')

  const swap = await ta.app.inject({ method: 'POST', url: manage, payload: 'lists_shown=1&lists=events', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } })
  t.equal(swap.statusCode, 200)
  t.match(swap.body, /Your choices are saved/)
  t.same(await statuses(ta, email), { main: 'unsubscribed', events: 'confirmed' })
  const ledger = await ta.database.rows<{ type: string, list: string }>(sql`
    SELECT e.type, l.slug AS list FROM consent_events e JOIN lists l ON l.id = e.list_id WHERE e.method = 'preferences' ORDER BY e.id`)
  t.same(ledger.map((e) => `${e.type}:${e.list}`).sort(), ['confirm:events', 'signup:events', 'unsubscribe:main'])

  const asJson = await ta.app.inject({ url: manage, headers: JSON_ACCEPT })
  t.same(asJson.json().lists.map((l: { slug: string, subscribed: boolean }) => [l.slug, l.subscribed]), [['main', false], ['events', true]])

  const bad = await ta.app.inject({ method: 'POST', url: manage, ...json({ lists: ['nope'] }) })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /nope/)

  await ta.app.inject({ method: 'POST', url: manage, payload: 'all=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.same(await statuses(ta, email), { main: 'unsubscribed', events: 'unsubscribed' })

  const erased = await ta.app.inject({ method: 'POST', url: manage, ...json({ erase: '1' }) })
  t.same(erased.json(), { status: 'erased' })
  t.same(await statuses(ta, email), {}, 'every list forgets the address')
  t.equal((await ta.app.inject({ url: manage, headers: JSON_ACCEPT })).statusCode, 404)
})

t.test('the answer to a sign-up is the same whatever the address is on each list', async (t) => {
  const ta = await twoLists(t)
  await signUpAndConfirm(ta, 'on-main@example.org')
  await subscribe(ta, 'pending@example.org', ['events'])
  await signUpAndConfirm(ta, 'left@example.org')
  const left = await exportRows(ta.app, 'list=main')
  const row = left.find((r) => r.email === 'left@example.org')!
  await ta.app.inject({ method: 'POST', url: target(row.unsubscribe_url) })
  const answers = new Set<string>()
  for (const email of ['new@example.org', 'on-main@example.org', 'pending@example.org', 'left@example.org']) {
    const res = await ta.app.inject({ method: 'POST', url: '/subscribe', ...json({ email, lists: ['main', 'events'] }) })
    answers.add(`${res.statusCode} ${res.body}`)
  }
  t.equal(answers.size, 1)
})

t.test('the export has a row per subscription for the lists asked for, with their own consent columns', async (t) => {
  const ta = await twoLists(t)
  await signUpAndConfirm(ta, 'a@example.org', { lists: 'events' } as unknown as Record<string, string>)
  await subscribe(ta, 'b@example.org', ['main', 'events'])
  const res = await ta.app.inject({ url: '/admin/subscribers.csv?status=all&list=events&list=main', headers: staff })
  t.equal(res.statusCode, 200)
  const rows = csvRecords(res.body)
  t.same(Object.keys(rows[0]), ['email', 'name', 'status', 'source', 'signed_up_at', 'signup_ip', 'signup_user_agent',
    'confirmed_at', 'confirm_ip', 'unsubscribed_at', 'unsubscribe_url', 'consent_text_version', 'list'])
  t.same(rows.map((r) => `${r.email} ${r.list} ${r.status}`).sort(),
    ['a@example.org events confirmed', 'b@example.org events pending', 'b@example.org main pending'])
  const whole = await exportRows(ta.app, 'status=all')
  t.same(whole.map((r) => `${r.email} [${r.lists}]`).sort(), ['a@example.org [events]', 'b@example.org []'],
    'without list: a row per subscriber and the lists they are confirmed on')
  const unknown = await ta.app.inject({ url: '/admin/subscribers.csv?list=nope', headers: staff })
  t.equal(unknown.statusCode, 400)
  t.match(unknown.json().message, /nope/)
  const [{ n }] = await ta.database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM consent_events WHERE type = 'export' AND details->'filters' ? 'lists'`)
  t.equal(n, 1, 'the list filter is in the ledger')
})

t.test('subject access shows every list, and erasure removes the address from all', async (t) => {
  const ta = await twoLists(t)
  const email = 'sar@example.org'
  await subscribe(ta, email, ['main', 'events'])
  await confirmFrom(ta, await waitForMailTo(ta.smtp, email))
  const access = await ta.app.inject({ url: `/admin/subscribers/${email}`, headers: staff })
  t.match(access.json().subscriptions, [{ list: 'main', status: 'confirmed' }, { list: 'events', status: 'confirmed' }])
  t.ok(access.json().events.some((e: { list: string, type: string }) => e.list === 'events' && e.type === 'confirm'))
  const erased = await ta.app.inject({ method: 'DELETE', url: `/admin/subscribers/${email}`, headers: staff })
  t.equal(erased.statusCode, 200)
  const [{ n }] = await ta.database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM subscriptions`)
  t.equal(n, 0)
})
