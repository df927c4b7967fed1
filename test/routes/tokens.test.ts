// The links in mails: confirm and unsubscribe. GET and HEAD never change state, because mail security scanners fetch
// every link (RFC 8058 §1); POST does, and repeats are harmless; expired, tampered and random tokens get one generic
// answer (RFC 8058 §3.1, §6); the one-click POST answers 200 without a redirect, urlencoded or multipart (RFC 8058
// §3.1, §3.2); unsubscribing stops mail already queued (Google and Yahoo: honour it before the next send).
import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { sql } from 'drizzle-orm'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { mailsTo, waitForMailTo } from '../helpers/smtp.js'
import { waitUntil } from '../helpers/wait.js'
import { linkIn, pathOf } from '../helpers/mail.js'
import { exportRowOf, outboxIdle, signUp, signUpAndConfirm } from '../helpers/flow.js'

const JSON_ACCEPT = { accept: 'application/json' }
const HTML_ACCEPT = { accept: 'text/html' }

/** Signs up and returns the confirmation link's path. */
async function pendingWithLink (ta: TestApp, email: string): Promise<string> {
  await signUp(ta.app, email)
  return pathOf(linkIn(await waitForMailTo(ta.smtp, email), '/confirm/'))
}

/** The same token with one character changed. */
/** Once the outbox is quiet: the address is still pending and got only its confirmation mail. */
async function stillPendingWithoutWelcome (t: Test, ta: TestApp, email: string): Promise<void> {
  await outboxIdle(ta.database)
  t.equal((await exportRowOf(ta.app, email))!.status, 'pending', 'still pending')
  t.equal(mailsTo(ta.smtp, email).length, 1, 'no welcome mail')
}

const flipOne = (path: string, at = -5) => {
  const i = path.length + at
  return path.slice(0, i) + (path[i] === 'A' ? 'B' : 'A') + path.slice(i + 1)
}

t.test('GET and HEAD on a confirmation link show a page and change nothing', async (t) => {
  const ta = await buildTestApp(t)
  const email = 'scanned@example.org'
  const confirmPath = await pendingWithLink(ta, email)

  const get = await ta.app.inject({ url: confirmPath, headers: HTML_ACCEPT })
  t.equal(get.statusCode, 200)
  t.match(get.body, /<button type="submit">Confirm subscription<\/button>/)
  t.equal(get.headers['referrer-policy'], 'no-referrer', 'the token does not leak through Referer')
  const head = await ta.app.inject({ method: 'HEAD', url: confirmPath })
  t.equal(head.statusCode, 200)
  // A scanner that does not ask for HTML gets the same page: the button still needs a person.
  await ta.app.inject({ url: confirmPath, headers: { accept: '*/*', 'user-agent': 'LinkScanner/2.0' } })

  await stillPendingWithoutWelcome(t, ta, email)
})

t.test('POST on a confirmation link confirms, records the evidence and sends the welcome mail', async (t) => {
  const ta = await buildTestApp(t)
  const email = 'clicker@example.org'
  const confirmPath = await pendingWithLink(ta, email)
  const res = await ta.app.inject({ method: 'POST', url: confirmPath, headers: { ...HTML_ACCEPT, 'user-agent': 'Browser/1.0' } })
  t.equal(res.statusCode, 200)
  t.match(res.body, /<h1>You(&#39;|')re subscribed<\/h1>/)
  t.match(res.body, /Thank you/)
  const row = await exportRowOf(ta.app, email)
  t.match(row, { status: 'confirmed', confirm_ip: '127.0.0.1' })
  t.match(row!.confirmed_at, /^\d{4}-\d\d-\d\dT/)
  const welcome = await waitForMailTo(ta.smtp, email, 2)
  t.match(welcome.parsed.subject, /Welcome/)
})

t.test('repeating the confirmation POST is harmless and says already confirmed', async (t) => {
  const ta = await buildTestApp(t)
  const email = 'twice@example.org'
  const confirmPath = await pendingWithLink(ta, email)
  const first = await ta.app.inject({ method: 'POST', url: confirmPath, headers: JSON_ACCEPT })
  t.same(first.json(), { status: 'confirmed', alreadyConfirmed: false })
  const confirmedAt = (await exportRowOf(ta.app, email))!.confirmed_at

  const again = await ta.app.inject({ method: 'POST', url: confirmPath, headers: JSON_ACCEPT })
  t.equal(again.statusCode, 200)
  t.same(again.json(), { status: 'confirmed', alreadyConfirmed: true })
  const page = await ta.app.inject({ method: 'POST', url: confirmPath, headers: HTML_ACCEPT })
  t.equal(page.statusCode, 200)
  t.match(page.body, /<h1>You(&#39;|')re already subscribed<\/h1>/)
  t.match(page.body, /t\*\*\*@example\.org is already on this list/, 'the address, masked')

  await outboxIdle(ta.database)
  t.equal((await exportRowOf(ta.app, email))!.confirmed_at, confirmedAt, 'the first confirmation time is kept')
  t.equal(mailsTo(ta.smtp, email).length, 2, 'one confirmation and one welcome mail, no second welcome')
})

t.test('an expired confirmation link answers 410 and changes nothing', async (t) => {
  const ta = await buildTestApp(t, { CONFIRM_TTL_HOURS: '72' })
  const email = 'late@example.org'
  const confirmPath = await pendingWithLink(ta, email)
  ta.clock.advance(72 * 3_600_000 + 1000)

  const json = await ta.app.inject({ method: 'POST', url: confirmPath, headers: JSON_ACCEPT })
  t.equal(json.statusCode, 410)
  t.same(json.json(), { error: 'expired', message: 'This link has expired: sign up again for a new one.' })
  const page = await ta.app.inject({ method: 'POST', url: confirmPath, headers: HTML_ACCEPT })
  t.equal(page.statusCode, 410)
  t.match(page.body, /<h1>This link has expired<\/h1>/)
  t.match(page.body, /<form method="post" action="\/subscribe"[^>]*>[\s\S]*Send me a new link/, 'a form to ask for a new link')

  await stillPendingWithoutWelcome(t, ta, email)
})

t.test('a tampered or random confirmation token gets one generic 404 and changes nothing', async (t) => {
  const ta = await buildTestApp(t)
  const email = 'target@example.org'
  const confirmPath = await pendingWithLink(ta, email)
  const forged = [
    flipOne(confirmPath),
    flipOne(confirmPath, -1),
    `/confirm/${randomBytes(32).toString('base64url')}`,
    '/confirm/short'
  ]
  const answers = new Set<string>()
  for (const path of forged) {
    const post = await ta.app.inject({ method: 'POST', url: path, headers: JSON_ACCEPT })
    t.equal(post.statusCode, 404, path.slice(0, 40))
    answers.add(post.body)
    const page = await ta.app.inject({ method: 'POST', url: path, headers: HTML_ACCEPT })
    t.equal(page.statusCode, 404)
    t.match(page.body, /<h1>This link does not work<\/h1>/)
  }
  t.equal(answers.size, 1, 'one generic answer, whatever the token')
  t.same(JSON.parse([...answers][0]), { error: 'invalid_link', message: 'This link does not work. Sign up again for a new one.' })
  t.equal((await exportRowOf(ta.app, email))!.status, 'pending', 'still pending')
  t.equal((await ta.app.inject({ url: '/confirm/short', headers: HTML_ACCEPT })).statusCode, 404, 'GET on a malformed token is 404 too')
  const overlong = await ta.app.inject({ method: 'POST', url: `/confirm/${'x'.repeat(300)}`, headers: JSON_ACCEPT })
  t.equal(overlong.statusCode, 414, 'an over-long token is refused by the router (URI too long)')
})

t.test('GET and HEAD on an unsubscribe link show a page and change nothing', async (t) => {
  const ta = await buildTestApp(t)
  const email = 'keeper@example.org'
  await signUpAndConfirm(ta, email)
  const welcome = await waitForMailTo(ta.smtp, email, 2)
  const unsubscribePath = pathOf(linkIn(welcome, '/unsubscribe/'))

  const get = await ta.app.inject({ url: unsubscribePath, headers: HTML_ACCEPT })
  t.equal(get.statusCode, 200)
  t.match(get.body, /<form method="post" action="\/unsubscribe\/[^"]+">\s*<button type="submit">Unsubscribe<\/button>/)
  t.equal((await ta.app.inject({ method: 'HEAD', url: unsubscribePath })).statusCode, 200)
  t.equal((await exportRowOf(ta.app, email))!.status, 'confirmed', 'still confirmed')

  const tampered = await ta.app.inject({ url: flipOne(unsubscribePath), headers: HTML_ACCEPT })
  t.equal(tampered.statusCode, 404, 'a tampered unsubscribe link shows the generic page')
})

t.test('one-click unsubscribe (RFC 8058) answers 200 without a redirect, urlencoded and multipart, twice each', async (t) => {
  const ta = await buildTestApp(t)
  const bodies = {
    urlencoded: async () => ({ payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    multipart: async () => {
      const fd = new FormData()
      fd.append('List-Unsubscribe', 'One-Click')
      const encoded = new Response(fd)
      return { payload: Buffer.from(await encoded.arrayBuffer()), headers: { 'content-type': encoded.headers.get('content-type')! } }
    }
  }
  for (const [encoding, body] of Object.entries(bodies)) {
    const email = `one-click-${encoding}@example.org`
    await signUpAndConfirm(ta, email)
    const unsubscribePath = pathOf(linkIn(await waitForMailTo(ta.smtp, email, 2), '/unsubscribe/'))
    let first: string | undefined
    for (const round of [1, 2]) {
      // A mailbox provider sends no cookies, no Accept and no Origin: just the body.
      const res = await ta.app.inject({ method: 'POST', url: unsubscribePath, ...await body() })
      t.equal(res.statusCode, 200, `${encoding} #${round}: 200`)
      t.notOk(res.headers.location, `${encoding} #${round}: no Location`)
      t.match(res.body, /You(&#39;|')re unsubscribed/)
      const row = await exportRowOf(ta.app, email)
      t.equal(row!.status, 'unsubscribed')
      first ??= row!.unsubscribed_at
      t.equal(row!.unsubscribed_at, first, `${encoding} #${round}: the first unsubscribe time is kept`)
    }
    const [method] = await ta.database.rows<{ unsubscribe_method: string }>(sql`SELECT unsubscribe_method FROM subscribers WHERE email = ${email}`)
    t.equal(method.unsubscribe_method, 'one-click', `${encoding}: recorded as one-click`)
  }
})

t.test('the unsubscribe button answers JSON to scripts and a tampered or random token gets the generic 404', async (t) => {
  const ta = await buildTestApp(t)
  const email = 'scripted@example.org'
  await signUpAndConfirm(ta, email)
  const unsubscribePath = pathOf((await exportRowOf(ta.app, email))!.unsubscribe_url)
  const forged = [
    flipOne(unsubscribePath),
    flipOne(unsubscribePath, -50), // inside the public id
    `/unsubscribe/${crypto.randomUUID()}.${randomBytes(32).toString('base64url')}`,
    `/unsubscribe/${randomBytes(32).toString('base64url')}`
  ]
  for (const path of forged) {
    const res = await ta.app.inject({ method: 'POST', url: path, headers: JSON_ACCEPT })
    t.equal(res.statusCode, 404, path.slice(0, 40))
    t.same(res.json(), { error: 'invalid_link', message: 'This link does not work. Sign up again for a new one.' })
  }
  t.equal((await exportRowOf(ta.app, email))!.status, 'confirmed', 'forged links changed nothing')
  const res = await ta.app.inject({ method: 'POST', url: unsubscribePath, headers: JSON_ACCEPT })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'unsubscribed' })
  t.equal((await exportRowOf(ta.app, email))!.status, 'unsubscribed')
})

t.test('after unsubscribing, a mail still queued for that person is never sent', async (t) => {
  // Retries wait ten minutes of the test clock, so the welcome mail sits queued until the clock moves.
  const ta = await buildTestApp(t, { OUTBOX_RETRY_BASE_MS: '600000', OUTBOX_RETRY_MAX_MS: '600000' })
  const email = 'leaving@example.org'
  const confirmPath = await pendingWithLink(ta, email)
  // The mail server refuses for now, so the welcome mail goes back in the queue for a retry.
  ta.smtp.failWith = 451
  await ta.app.inject({ method: 'POST', url: confirmPath, headers: JSON_ACCEPT })
  const welcomeRow = async () =>
    (await ta.database.rows<{ status: string, last_error: string | null }>(sql`SELECT status, last_error FROM outbox WHERE kind = 'welcome'`))[0]
  await waitUntil(async () => { const w = await welcomeRow(); return w?.status === 'pending' && w.last_error !== null },
    10_000, () => 'the welcome mail to be refused once and queued for a retry')
  ta.smtp.failWith = undefined

  const unsubscribePath = pathOf((await exportRowOf(ta.app, email))!.unsubscribe_url)
  const res = await ta.app.inject({ method: 'POST', url: unsubscribePath, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(res.statusCode, 200)
  ta.clock.advance(20 * 60_000)
  await outboxIdle(ta.database)
  t.equal(mailsTo(ta.smtp, email).length, 1, 'only the confirmation mail ever arrived')
  t.equal((await welcomeRow()).status, 'cancelled', 'the welcome mail is cancelled, not sent')
})

t.test('unsubscribing makes an outstanding confirmation link stop working', async (t) => {
  const ta = await buildTestApp(t)
  const email = 'changed-mind@example.org'
  await signUpAndConfirm(ta, email)
  await outboxIdle(ta.database)
  const unsubscribePath = pathOf((await exportRowOf(ta.app, email))!.unsubscribe_url)
  ta.clock.advance(11 * 60_000)
  // Re-signing up while confirmed sends nothing; so leave first, then sign up again, then leave again.
  await ta.app.inject({ method: 'POST', url: unsubscribePath, headers: JSON_ACCEPT })
  await signUp(ta.app, email)
  const confirmPath = pathOf(linkIn(await waitForMailTo(ta.smtp, email, 3), '/confirm/'))
  await ta.app.inject({ method: 'POST', url: unsubscribePath, headers: JSON_ACCEPT })
  const res = await ta.app.inject({ method: 'POST', url: confirmPath, headers: JSON_ACCEPT })
  t.equal(res.statusCode, 404, 'the confirmation link died with the unsubscribe')
  t.equal((await exportRowOf(ta.app, email))!.status, 'unsubscribed')
})
