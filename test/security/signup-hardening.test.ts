// Sign-up abuse an attacker tried: one inbox bombed through sub-addresses, one domain flooded through many mailboxes,
// other websites posting the form, a person too quick for the bot filter, text of anyone's choosing in a mail to
// anyone, a client address PostgreSQL cannot store, and a queue that grew without bound.
import t from 'tap'
import postgres from 'postgres'
import { sql } from 'drizzle-orm'
import { buildTestApp, form, json } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { exportRowOf, outboxIdle, signUp } from '../helpers/flow.js'
import { linkIn, pathOf } from '../helpers/mail.js'
import { mailsTo, waitForMailTo } from '../helpers/smtp.js'
import { waitUntil } from '../helpers/wait.js'

t.test('sub-addresses of one mailbox get one confirmation mail per cooldown, and Gmail dots count as one mailbox', async (t) => {
  const { app, smtp, database } = await buildTestApp(t, { RATE_LIMIT_SUBSCRIBE_MAX: '100' })
  for (let i = 1; i <= 6; i++) await signUp(app, `victim+${i}@example.org`)
  await signUp(app, 'victim@example.org')
  for (const address of ['jane.doe@gmail.com', 'janedoe@gmail.com', 'J.a.n.e.D.o.e+x@googlemail.com']) await signUp(app, address)
  await outboxIdle(database)
  t.equal(smtp.mails.filter((m) => m.envelope.to[0].startsWith('victim')).length, 1, 'one mail reached the victim\'s inbox')
  t.equal(smtp.mails.filter((m) => /gmail\.com$/i.test(m.envelope.to[0])).length, 1, 'one mail reached the Gmail inbox')
})

t.test('confirming ends the mailbox cooldown: another sub-address of it gets its mail at once', async (t) => {
  const { app, smtp } = await buildTestApp(t)
  await signUp(app, 'sam+news@example.org')
  const mail = await waitForMailTo(smtp, 'sam+news@example.org')
  await app.inject({ method: 'POST', url: pathOf(linkIn(mail, '/confirm/')), headers: { accept: 'application/json' } })
  await signUp(app, 'sam+events@example.org')
  await waitForMailTo(smtp, 'sam+events@example.org')
  t.pass('the second sub-address got its confirmation mail')
})

t.test('a domain gets at most CONFIRM_DOMAIN_HOURLY_CAP confirmation mails an hour; large providers are not capped', async (t) => {
  const { app, smtp, database, clock } = await buildTestApp(t, { CONFIRM_DOMAIN_HOURLY_CAP: '3', RATE_LIMIT_SUBSCRIBE_MAX: '100' })
  for (let i = 1; i <= 5; i++) await signUp(app, `staff${i}@small-council.example`)
  for (let i = 1; i <= 5; i++) await signUp(app, `resident${i}@gmail.com`)
  await outboxIdle(database)
  t.equal(mailsTo(smtp, 'staff4@small-council.example').length + mailsTo(smtp, 'staff5@small-council.example').length, 0)
  t.equal(smtp.mails.filter((m) => m.envelope.to[0].endsWith('@small-council.example')).length, 3, 'three mails to the domain')
  t.equal(smtp.mails.filter((m) => m.envelope.to[0].endsWith('@gmail.com')).length, 5, 'every Gmail mailbox got its own')
  clock.advance(61 * 60_000)
  await signUp(app, 'staff5@small-council.example')
  await waitForMailTo(smtp, 'staff5@small-council.example')
  t.pass('an hour later the domain may be mailed again')
})

t.test('a form posted from a page on another website is refused unless the site is allowed; scripts are not affected', async (t) => {
  const { app, database } = await buildTestApp(t, { ALLOWED_ORIGINS: 'https://www.council.example' })
  const post = (email: string, headers: Record<string, string>) => {
    const f = form({ email })
    return app.inject({ method: 'POST', url: '/subscribe', payload: f.payload, headers: { ...f.headers, ...headers } })
  }
  const evil = await post('stranger@example.org', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })
  t.equal(evil.statusCode, 403)
  t.match(evil.body, /can only be sent from https:\/\/news\.example\.org/, 'a page that says where to sign up')
  t.equal((await post('stranger2@example.org', { 'sec-fetch-site': 'cross-site' })).statusCode, 403, 'no Origin, but the browser says cross-site')
  t.equal((await post('stranger3@example.org', { origin: 'null' })).statusCode, 403, 'an opaque origin')
  t.equal((await post('resident@example.org', { origin: 'https://www.council.example', 'sec-fetch-site': 'cross-site' })).statusCode, 303, 'the council\'s own site')
  t.equal((await post('visitor@example.org', { origin: 'null', 'sec-fetch-site': 'same-origin' })).statusCode, 303,
    'the hosted form (its page sends no Referer, so the browser says Origin: null)')
  t.equal((await post('older-visitor@example.org', { origin: 'https://news.example.org' })).statusCode, 303, 'the hosted form, no Sec-Fetch-Site')
  t.equal((await post('old-browser@example.org', {})).statusCode, 303, 'a browser that sends neither header')
  const script = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'script@example.org' }) })
  t.equal(script.statusCode, 202, 'a JSON call from a script')
  const stored = await database.rows<{ email: string }>(sql`SELECT email FROM subscribers ORDER BY email`)
  t.same(stored.map((r) => r.email), ['old-browser@example.org', 'older-visitor@example.org', 'resident@example.org', 'script@example.org', 'visitor@example.org'])
})

t.test('the confirmation mail carries nothing the sign-up typed; the welcome mail greets the confirmed person by name', async (t) => {
  const { app, smtp } = await buildTestApp(t)
  const name = 'You won $5000 claim it at https://prize.example'
  await signUp(app, 'target@example.org', { name })
  const confirmation = await waitForMailTo(smtp, 'target@example.org')
  t.notMatch(confirmation.raw, /prize\.example|5000/, 'not in the headers or either part')
  t.equal(confirmation.parsed.to && !Array.isArray(confirmation.parsed.to) ? confirmation.parsed.to.value[0].name : undefined, '', 'no display name')
  await app.inject({ method: 'POST', url: pathOf(linkIn(confirmation, '/confirm/')), headers: { accept: 'application/json' } })
  const welcome = await waitForMailTo(smtp, 'target@example.org', 2)
  t.match(welcome.parsed.text, `Hello ${name},`)
})

t.test('a client address PostgreSQL cannot store (an IPv6 zone) is normalised, and the sign-up and its neighbours succeed', async (t) => {
  const { app } = await buildTestApp(t, { TRUST_PROXY: '127.0.0.1' })
  const results = await Promise.all([
    app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'zone@example.org' }), headers: { ...json({}).headers, 'x-forwarded-for': 'fe80::1%eth0' } }),
    app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'neighbour@example.org' }) })
  ])
  t.same(results.map((r) => r.statusCode), [202, 202])
  t.equal((await exportRowOf(app, 'zone@example.org'))?.signup_ip, 'fe80::1')
  t.ok(await exportRowOf(app, 'neighbour@example.org'))
})

t.test('a sign-up the database refuses fails alone: the others in its batch are written one by one', async (t) => {
  const { app, database } = await buildTestApp(t, { WORKER: 'false' })
  const signup = (email: string, userAgent?: string) => app.signups.subscribe({ email, emailNormalized: email, userAgent })
  // The first is written alone; the next three wait and go together. A NUL in jsonb text is refused by PostgreSQL.
  const outcomes = await Promise.allSettled([
    signup('first@example.org'), signup('bad@example.org', 'agent\u0000nul'), signup('second@example.org'), signup('third@example.org')
  ])
  t.same(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
  const stored = await database.rows<{ email: string }>(sql`SELECT email FROM subscribers ORDER BY email`)
  t.same(stored.map((r) => r.email), ['first@example.org', 'second@example.org', 'third@example.org'])
})

t.test('the sign-up queue is bounded: beyond SIGNUP_QUEUE_MAX a sign-up gets 503 with Retry-After, and nothing is lost', { skip: process.env.DATABASE_URL ? false : 'needs PostgreSQL: a second connection holds a lock' }, async (t) => {
  const { database, url } = await testDatabase(t)
  const { app } = await buildTestApp(t, { SIGNUP_QUEUE_MAX: '100', RATE_LIMIT_SUBSCRIBE_MAX: '1000', WORKER: 'false' }, { database })
  const blocker = postgres(url!, { max: 1, onnotice: () => {} })
  t.teardown(() => blocker.end({ timeout: 1 }))
  let release!: () => void
  const held = new Promise<void>((resolve) => { release = resolve })
  const locked = new Promise<void>((resolve) => {
    blocker.begin(async (tx) => { await tx`LOCK TABLE subscribers IN EXCLUSIVE MODE`; resolve(); await held }).catch(() => {})
  })
  await locked
  let answered = 0
  const answers = Array.from({ length: 150 }, (_, i) => app.inject({ method: 'POST', url: '/subscribe', ...json({ email: `crowd${i}@example.org` }) })
    .finally(() => { answered++ }))
  // While the table is locked, only the refused ones can answer.
  await waitUntil(() => answered >= 49, 10_000, () => `49 sign-ups refused at once, ${answered} answered`)
  release()
  const responses = await Promise.all(answers)
  t.equal(responses.filter((r) => r.statusCode === 202).length, 101, 'one being written and a hundred waiting')
  const refused = responses.filter((r) => r.statusCode === 503)
  t.equal(refused.length, 49, 'the rest refused at once')
  t.equal(refused[0].headers['retry-after'], '5')
  t.match(refused[0].json(), { error: 'overloaded' })
  const [row] = await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM subscribers`)
  t.equal(Number(row.n), 101, 'every accepted sign-up is stored')
})
