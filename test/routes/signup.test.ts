// POST /subscribe as visitors and scripts see it: one answer for every address state, so nobody learns who is on the
// list (OWASP Authentication Cheat Sheet; CWE-204), who gets a confirmation mail, address identity (letter case),
// validation errors for JSON and for the HTML form, and links that never come from the Host header (OWASP Forgot
// Password Cheat Sheet).
import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { buildTestApp, form, json, PUBLIC_URL, type TestApp } from '../helpers/app.js'
import { mailsTo, waitForMailTo } from '../helpers/smtp.js'
import { linkIn, pathOf } from '../helpers/mail.js'
import { exportRowOf, exportRows, outboxIdle, signUp, signUpAndConfirm } from '../helpers/flow.js'

/** What a caller can observe of an answer: status, body and headers, minus the clock. */
// Date and the per-client rate-limit counters change from one request to the next whatever the address: they
// say nothing about it (the counters are per IP), so they are left out of the comparison.
const observable = (res: LightMyRequestResponse) => {
  const headers = Object.fromEntries(Object.entries(res.headers).filter(([k]) => k !== 'date' && !k.startsWith('x-ratelimit-')))
  return { status: res.statusCode, body: res.body, headers }
}

/** Puts an address into each state a sign-up can meet. */
async function addressesInEveryState (ta: TestApp, tag: string) {
  const pending = `pending-${tag}@example.org`
  const confirmed = `confirmed-${tag}@example.org`
  const unsubscribed = `unsubscribed-${tag}@example.org`
  await signUp(ta.app, pending)
  await signUpAndConfirm(ta, confirmed)
  await signUpAndConfirm(ta, unsubscribed)
  const row = await exportRowOf(ta.app, unsubscribed)
  await ta.app.inject({ method: 'POST', url: pathOf(row!.unsubscribe_url), headers: { accept: 'application/json' } })
  await outboxIdle(ta.database)
  return { new: `new-${tag}@example.org`, pending, confirmed, unsubscribed }
}

t.test('a JSON sign-up gets the same 202 whether the address is new, pending, confirmed or unsubscribed', async (t) => {
  const ta = await buildTestApp(t)
  const states = await addressesInEveryState(ta, 'json')
  const answers = []
  for (const email of Object.values(states)) {
    answers.push(observable(await ta.app.inject({ method: 'POST', url: '/subscribe', ...json({ email }) })))
  }
  t.equal(answers[0].status, 202)
  t.same(JSON.parse(answers[0].body).status, 'pending')
  t.match(answers[0].headers['content-type'], /^application\/json/)
  for (const [i, state] of Object.keys(states).entries()) t.same(answers[i], answers[0], `${state}: same status, body and headers`)
})

t.test('a form sign-up gets the same 303 to /subscribe/thanks whether the address is new, pending, confirmed or unsubscribed', async (t) => {
  const ta = await buildTestApp(t)
  const states = await addressesInEveryState(ta, 'form')
  const answers: ReturnType<typeof observable>[] = []
  const cookies: string[] = []
  for (const email of Object.values(states)) {
    const answer = observable(await ta.app.inject({ method: 'POST', url: '/subscribe', ...form({ email }) }))
    // The thanks page's cookie carries what the visitor typed (sealed), never the address's state: compared apart.
    cookies.push(String(answer.headers['set-cookie']).split(';')[0])
    answers.push({ ...answer, headers: { ...answer.headers, 'set-cookie': String(answer.headers['set-cookie']).replace(/^joinlist_thanks=[\w-]+/, 'joinlist_thanks=…') } })
  }
  t.equal(answers[0].status, 303)
  t.equal(answers[0].headers.location, '/subscribe/thanks')
  t.equal(answers[0].headers['set-cookie'], 'joinlist_thanks=…; Path=/; Max-Age=3600; SameSite=Lax; HttpOnly; Secure')
  for (const [i, state] of Object.keys(states).entries()) t.same(answers[i], answers[0], `${state}: same status, body and headers`)
  for (const [i, email] of Object.values(states).entries()) {
    const thanks = await ta.app.inject({ url: '/subscribe/thanks', headers: { accept: 'text/html', cookie: cookies[i] } })
    t.equal(thanks.statusCode, 200)
    t.match(thanks.body, /<h1>Check your email<\/h1>/)
    t.match(thanks.body, `link to confirm it to ${email}.`, 'the page names the address as typed, whatever its state')
  }
})

t.test('a confirmed address that signs up again gets no new mail and stays confirmed', async (t) => {
  const ta = await buildTestApp(t)
  const email = 'already@example.org'
  await signUpAndConfirm(ta, email)
  await outboxIdle(ta.database)
  const before = mailsTo(ta.smtp, email).length
  t.equal(before, 2, 'a confirmation and a welcome')

  await signUp(ta.app, email)
  await outboxIdle(ta.database)
  t.equal(mailsTo(ta.smtp, email).length, before, 'no confirmation mail for a confirmed address')
  t.equal((await exportRowOf(ta.app, email))!.status, 'confirmed')
})

t.test('an unsubscribed address that signs up again gets a confirmation mail at once, and confirming makes it confirmed again', async (t) => {
  const ta = await buildTestApp(t)
  const email = 'returning@example.org'
  await signUpAndConfirm(ta, email)
  const row = await exportRowOf(ta.app, email)
  const left = await ta.app.inject({ method: 'POST', url: pathOf(row!.unsubscribe_url), headers: { accept: 'application/json' } })
  t.equal(left.statusCode, 200)
  await outboxIdle(ta.database)
  const before = mailsTo(ta.smtp, email).length

  // Within the cooldown of the first confirmation mail: leaving resets it, so coming back is not throttled.
  await signUp(ta.app, email)
  const mail = await waitForMailTo(ta.smtp, email, before + 1)
  t.match(mail.parsed.subject, /Confirm your subscription/)
  const confirmed = await ta.app.inject({ method: 'POST', url: pathOf(linkIn(mail, '/confirm/')), headers: { accept: 'application/json' } })
  t.same(confirmed.json(), { status: 'confirmed', alreadyConfirmed: false })
  const after = await exportRowOf(ta.app, email)
  t.equal(after!.status, 'confirmed')
  t.equal(after!.unsubscribed_at, '', 'no longer marked as unsubscribed')
})

t.test('a pending address that signs up again within the cooldown gets no second mail', async (t) => {
  const ta = await buildTestApp(t)
  const email = 'eager@example.org'
  await signUp(ta.app, email)
  await waitForMailTo(ta.smtp, email)
  ta.clock.advance(5 * 60_000) // half of the default 10-minute cooldown
  await signUp(ta.app, email)
  await signUp(ta.app, email)
  await outboxIdle(ta.database)
  t.equal(mailsTo(ta.smtp, email).length, 1, 'one confirmation mail')
})

t.test('a pending address that signs up again after the cooldown gets a fresh confirmation mail', async (t) => {
  const ta = await buildTestApp(t)
  const email = 'patient@example.org'
  await signUp(ta.app, email)
  await waitForMailTo(ta.smtp, email)
  ta.clock.advance(11 * 60_000)
  await signUp(ta.app, email)
  const second = await waitForMailTo(ta.smtp, email, 2)
  const res = await ta.app.inject({ method: 'POST', url: pathOf(linkIn(second, '/confirm/')), headers: { accept: 'application/json' } })
  t.equal(res.statusCode, 200, 'the newest link confirms')
})

t.test('A@Example.COM and a@example.com are one subscriber', async (t) => {
  const ta = await buildTestApp(t)
  await signUp(ta.app, 'A@Example.COM')
  await waitForMailTo(ta.smtp, 'A@example.com')
  await signUp(ta.app, 'a@example.com')
  await signUp(ta.app, ' a@EXAMPLE.com ')
  await outboxIdle(ta.database)
  const rows = await exportRows(ta.app)
  t.equal(rows.length, 1, 'one row in the export')
  t.equal(rows[0].email, 'A@Example.COM', 'kept as first typed (the later sign-ups were inside the cooldown)')
  t.equal(ta.smtp.mails.length, 1, 'one confirmation mail')
})

t.test('an invalid JSON sign-up gets 400 {error, message, field}', async (t) => {
  const ta = await buildTestApp(t)
  const cases: Array<[object, string]> = [
    [{}, 'email'],
    [{ email: 'not-an-address' }, 'email'],
    [{ email: 'a..b@example.org' }, 'email'],
    [{ email: 'ok@example.org', name: 'x'.repeat(101) }, 'name'],
    [{ email: 'ok@example.org', name: 'x\r\nBcc: a@evil.example' }, 'name'],
    [{ email: 'ok@example.org', source: 'y'.repeat(65) }, 'source']
  ]
  for (const [payload, field] of cases) {
    const res = await ta.app.inject({ method: 'POST', url: '/subscribe', ...json(payload) })
    t.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 60))
    t.match(res.headers['content-type'], /^application\/json/)
    const body = res.json()
    t.equal(body.error, 'invalid_field')
    t.equal(body.field, field)
    t.type(body.message, 'string')
    t.ok(body.message.length > 10, 'the message says what to fix')
  }
  await outboxIdle(ta.database)
  t.equal(ta.smtp.mails.length, 0, 'no mail for a refused sign-up')
  t.equal((await exportRows(ta.app)).length, 0, 'nothing stored')
})

t.test('an invalid form sign-up gets the form again (400) with the message next to the field and the typed values kept', async (t) => {
  const ta = await buildTestApp(t)
  const bad = await ta.app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'jane@example', name: 'Jane <Doe>', source: 'footer' }) })
  t.equal(bad.statusCode, 400)
  t.match(bad.headers['content-type'], /^text\/html/)
  t.match(bad.body, /<title>Error: Sign up for emails – Policy Notes/)
  t.match(bad.body, /<p class="error-message" id="email-error">.*(part after the @|not a valid domain)/s)
  t.match(bad.body, /id="email"[^>]*value="jane@example"[^>]*aria-describedby="email-error"/s, 'the email kept and linked to its message')
  t.match(bad.body, /id="name"[^>]*value="Jane &lt;Doe&gt;"/s, 'the name kept, escaped')
  t.match(bad.body, /name="source" value="footer"/, 'the hidden source kept')

  const longName = await ta.app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'jane@example.org', name: 'n'.repeat(101) }) })
  t.equal(longName.statusCode, 400)
  t.match(longName.body, /<p class="error-message" id="name-error">.*too long/s, 'the message sits next to the name field')
  t.match(longName.body, /id="email"[^>]*value="jane@example.org"/s)
})

t.test('a text/plain body gets 415 and malformed JSON gets 400', async (t) => {
  const ta = await buildTestApp(t)
  const plain = await ta.app.inject({ method: 'POST', url: '/subscribe', payload: 'email=a@example.org', headers: { 'content-type': 'text/plain', accept: 'application/json' } })
  t.equal(plain.statusCode, 415)
  t.equal(plain.json().error, 'unsupported_media_type')
  const broken = await ta.app.inject({ method: 'POST', url: '/subscribe', payload: '{"email": "a@example.org"', headers: { 'content-type': 'application/json', accept: 'application/json' } })
  t.equal(broken.statusCode, 400)
  t.equal(broken.json().error, 'bad_request')
  t.type(broken.json().message, 'string')
})

t.test('a Host or X-Forwarded-Host header never changes the links in mails', async (t) => {
  const ta = await buildTestApp(t)
  const email = 'hosted@example.org'
  const res = await ta.app.inject({
    method: 'POST',
    url: '/subscribe',
    payload: JSON.stringify({ email }),
    headers: { 'content-type': 'application/json', host: 'evil.example', 'x-forwarded-host': 'evil.example', forwarded: 'host=evil.example' }
  })
  t.equal(res.statusCode, 202)
  const confirmation = await waitForMailTo(ta.smtp, email)
  t.notMatch(confirmation.raw, /evil\.example/, 'the confirmation mail never names the forged host')
  const confirmUrl = linkIn(confirmation, '/confirm/')
  t.equal(new URL(confirmUrl).origin, PUBLIC_URL)
  const page = await ta.app.inject({ url: pathOf(confirmUrl), headers: { host: 'evil.example', accept: 'text/html' } })
  t.match(page.body, /<form method="post" action="\/confirm\//, 'the page posts to a relative path')
  await ta.app.inject({ method: 'POST', url: pathOf(confirmUrl), headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' } })
  const welcome = await waitForMailTo(ta.smtp, email, 2)
  t.notMatch(welcome.raw, /evil\.example/, 'the welcome mail never names the forged host')
  t.match(welcome.raw.replace(/\r?\n[ \t]+/g, ' '), /^List-Unsubscribe: <https:\/\/news\.example\.org\/unsubscribe\//m, 'the one-click link is on PUBLIC_URL')
})
