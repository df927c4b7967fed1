// Bots and injection (OWASP ASVS 5.0 1.3.11; Unvalidated Redirects Cheat Sheet): a honeypot, a signed minimum time to submit
// and a domain blocklist each drop a sign-up behind the normal success answer; names are escaped in pages and
// mails and can never add a header; a redirect goes only to this site or an allowed origin.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildTestApp, form, json, type TestApp } from '../helpers/app.js'
import { rowCount } from '../helpers/flow.js'
import { linkIn, pathOf } from '../helpers/mail.js'
import { buildLoggedApp } from '../helpers/logs.js'

const botLines = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === 'sign-up dropped as a likely bot')

/** The signed timestamp from the hosted form. */
async function stampFromForm (env: TestApp): Promise<string> {
  const page = await env.app.inject({ url: '/', headers: { accept: 'text/html' } })
  return /name="form_started" value="([^"]+)"/.exec(page.body)![1]
}

t.test('the hosted form carries a honeypot field and a signed timestamp', async (t) => {
  const env = await buildTestApp(t)
  const page = await env.app.inject({ url: '/' })
  t.match(page.body, /<input type="text" id="website" name="website" tabindex="-1" autocomplete="off" value="">/)
  t.match(page.body, /aria-hidden="true"/)
  t.match(await stampFromForm(env), /^\d+\.[A-Za-z0-9_-]{22}$/)
})

t.test('a filled honeypot gets the normal answer, and no row, no mail, one log line (JSON and form)', async (t) => {
  const env = await buildLoggedApp(t)
  const viaJson = await env.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'bot1@example.org', website: 'http://spam.example' }) })
  const real = await env.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'person@example.org' }) })
  t.equal(viaJson.statusCode, 202)
  t.same(viaJson.json(), real.json(), 'the same body as a real sign-up')
  const viaForm = await env.app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'bot2@example.org', website: 'x' }) })
  t.equal(viaForm.statusCode, 303)
  t.equal(viaForm.headers.location, '/subscribe/thanks')
  t.equal(await rowCount(env.database, 'subscribers'), 1, 'only the real sign-up is stored')
  await env.smtp.waitFor(1)
  t.equal(await rowCount(env.database, 'outbox'), 1)
  const lines = botLines(env.logLines())
  t.equal(lines.length, 2, 'one line per dropped sign-up')
  t.match(lines[0], { reason: 'honeypot' })
  t.notMatch(env.logText(), /bot1@|bot2@/, 'the address is not logged')
})

t.test('a form with a tampered timestamp is dropped; one sent too fast comes back to be sent again; a missing one (API, embedded form) is fine', async (t) => {
  // A long minimum, so a slow machine cannot make the "too fast" post look human.
  const env = await buildLoggedApp(t, { FORM_MIN_SECONDS: '30' })
  const stamp = await stampFromForm(env)
  const fast = await env.app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'fast@example.org', name: 'Quick Fingers', form_started: stamp }) })
  t.equal(fast.statusCode, 400, 'never a silent drop: the form comes back')
  t.match(fast.body, /press Subscribe again/)
  t.match(fast.body, /value="fast@example.org"/, 'with the address as typed')
  t.match(fast.body, /value="Quick Fingers"/, 'and the name')
  const fresh = /name="form_started" value="([^"]+)"/.exec(fast.body)![1]
  t.not(fresh, stamp, 'and a fresh stamp')
  const [issued, mac] = stamp.split('.')
  const forgedTime = `${Number(issued) - 60_000}.${mac}`
  const forgedMac = `${issued}.${'A'.repeat(22)}`
  for (const bad of [forgedTime, forgedMac, 'garbage', `${Date.now() + 3_600_000}.${mac}`]) {
    const res = await env.app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'forged@example.org', form_started: bad }) })
    t.equal(res.statusCode, 303, 'the usual answer')
  }
  t.equal(await rowCount(env.database, 'subscribers'), 0, 'nothing stored')
  t.same(botLines(env.logLines()).map((l) => l.reason),
    ['form-stamp-tampered', 'form-stamp-tampered', 'form-stamp-tampered', 'form-stamp-tampered'])

  env.clock.advance(31_000)
  const human = await env.app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'human@example.org', form_started: stamp }) })
  t.equal(human.statusCode, 303)
  const api = await env.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'api@example.org' }) })
  t.equal(api.statusCode, 202)
  t.equal(await rowCount(env.database, 'subscribers'), 2, 'a person who took their time, and an API call without a stamp')
})

t.test('addresses at blocklisted domains (and their subdomains) get the normal answer and nothing is stored', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'joinlist-blocklist-'))
  const file = join(dir, 'blocklist.txt')
  writeFileSync(file, '# disposable mail\nmailinator.com\n\n@Trash-Mail.example  # comment\nbücher.example\n')
  const env = await buildLoggedApp(t, { BLOCKLIST_FILE: file })
  for (const email of ['x@mailinator.com', 'x@eu.MAILINATOR.com', 'y@trash-mail.example', 'a@Bücher.example', 'a@xn--bcher-kva.example']) {
    const res = await env.app.inject({ method: 'POST', url: '/subscribe', ...json({ email }) })
    t.equal(res.statusCode, 202, email)
  }
  t.equal(await rowCount(env.database, 'subscribers'), 0)
  t.equal(botLines(env.logLines()).filter((l) => l.reason === 'blocklist').length, 5)
  await env.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'ok@notmailinator.com' }) })
  t.equal(await rowCount(env.database, 'subscribers'), 1, 'a domain that merely ends with the same letters is not blocked')
})

t.test('a name with markup is escaped in the page and in the HTML mail', async (t) => {
  const env = await buildTestApp(t)
  const name = '<script>alert(1)</script><img src=x onerror=alert(2)>'
  const res = await env.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'markup@example.org', name }) })
  t.equal(res.statusCode, 202)
  // The name is in the welcome mail only (the confirmation mail carries nothing the sign-up typed).
  const [confirmation] = await env.smtp.waitFor(1)
  await env.app.inject({ method: 'POST', url: pathOf(linkIn(confirmation, '/confirm/')), headers: { accept: 'application/json' } })
  const [, mail] = await env.smtp.waitFor(2)
  const htmlPart = String(mail.parsed.html)
  t.notMatch(htmlPart, /<script|<img/i)
  t.match(htmlPart, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/)
  // The form shown again after an error echoes what was typed: escaped.
  const page = await env.app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'not-an-address', name }) })
  t.equal(page.statusCode, 400)
  t.notMatch(page.body, /<script>alert|<img src=x/)
  t.match(page.body, /value="&lt;script&gt;alert\(1\)&lt;\/script&gt;&lt;img src=x onerror=alert\(2\)&gt;"/)
})

t.test('CR/LF or control characters in name or source are a 400 and never reach a mail', async (t) => {
  const env = await buildTestApp(t)
  const cases: Array<[string, Record<string, string>]> = [
    ['name', { email: 'inject1@example.org', name: 'x\r\nBcc: a@evil.example' }],
    ['name', { email: 'inject2@example.org', name: 'x\nTo: a@evil.example' }],
    ['name', { email: 'inject3@example.org', name: 'x\u0000y' }],
    ['source', { email: 'inject4@example.org', source: 'footer\r\nX-Injected: 1' }]
  ]
  for (const [field, body] of cases) {
    const res = await env.app.inject({ method: 'POST', url: '/subscribe', ...json(body) })
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.match(res.json(), { error: 'invalid_field', field })
    const viaForm = await env.app.inject({ method: 'POST', url: '/subscribe', ...form(body) })
    t.equal(viaForm.statusCode, 400, 'form too')
  }
  t.equal(await rowCount(env.database, 'subscribers'), 0)
  // A name that only looks like a header stays in the display name: one recipient, no Bcc.
  await env.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'plain@example.org', name: 'x Bcc: a@evil.example' }) })
  const [mail] = await env.smtp.waitFor(1)
  t.same(mail.envelope.to, ['plain@example.org'], 'one envelope recipient')
  t.notOk(mail.parsed.headers.get('bcc'))
  t.notMatch(mail.raw, /^Bcc:/im)
  t.equal(mail.raw.split(/\r?\n\r?\n/)[0].match(/^To:/gim)!.length, 1)
})

t.test('a redirect is honoured only for a path on this site or an allowed origin', async (t) => {
  const env = await buildTestApp(t, { ALLOWED_REDIRECT_ORIGINS: 'https://www.example.org, https://shop.example.org/', RATE_LIMIT_SUBSCRIBE_MAX: '100' })
  const go = async (redirect: string, i: number) => (await env.app.inject({ method: 'POST', url: '/subscribe', ...form({ email: `r${i}@example.org`, redirect }) })).headers.location
  const refused = ['https://evil.example', '//evil.example', '/\\evil.example', '/\\/evil.example', '\\\\evil.example',
    'https:evil.example', 'javascript:alert(1)', 'http://www.example.org', 'https://www.example.org.evil.example/',
    'https://user@www.example.org/', ' //evil.example', '/\t/evil.example', 'https://evil.example#https://www.example.org',
    'data:text/html,hi']
  let i = 0
  for (const value of refused) {
    const location = await go(value, i++)
    t.equal(location, '/subscribe/thanks', `refused: ${JSON.stringify(value)}`)
  }
  t.equal(await go('/welcome?from=form#top', i++), '/welcome?from=form#top')
  t.equal(await go('https://www.example.org/thanks?x=1', i++), 'https://www.example.org/thanks?x=1')
  t.equal(await go('https://shop.example.org/', i++), 'https://shop.example.org/')
  const apiCall = await env.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'api@example.org', redirect: 'https://www.example.org/' }) })
  t.notOk(apiCall.headers.location, 'a JSON call is never redirected')
})
