// Log hygiene through a whole journey with SMTP, failures and refusals included: no log line holds a raw token, an
// action URL or a full address; addresses appear masked, and request lines carry the route pattern, never the URL
// (OWASP Logging Cheat Sheet, "data to exclude").
import t from 'tap'
import { ADMIN_TOKEN, form, json, staff } from '../helpers/app.js'
import { linkIn, pathOf } from '../helpers/mail.js'
import { buildLoggedApp } from '../helpers/logs.js'

t.test('through a whole journey with SMTP, no log line holds a raw token, an action URL or a full address', async (t) => {
  const env = await buildLoggedApp(t, { RATE_LIMIT_TOKEN_MAX: '5', RATE_LIMIT_STAFF_FAILURES: '2' })
  const { app, smtp } = env
  const email = 'Jane.Doe@Example.org'
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email, name: 'Jane' }) })
  await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'second.person@example.net', website: 'bot' }) })
  await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'not-an-address@', name: 'x' }) })
  const [confirmation] = await smtp.waitFor(1)
  const confirmUrl = linkIn(confirmation, '/confirm/')
  await app.inject({ url: pathOf(confirmUrl), headers: { accept: 'text/html' } })
  await app.inject({ method: 'POST', url: pathOf(confirmUrl), headers: { accept: 'text/html' } })
  await app.inject({ method: 'POST', url: pathOf(confirmUrl), headers: { accept: 'application/json' } })
  const [, welcome] = await smtp.waitFor(2)
  const unsubscribeUrl = linkIn(welcome, '/unsubscribe/')
  await app.inject({ url: pathOf(unsubscribeUrl) })
  await app.inject({ method: 'POST', url: pathOf(unsubscribeUrl), payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  // Failures, refusals and limits log too.
  for (let i = 0; i < 7; i++) await app.inject({ method: 'POST', url: `/confirm/${'Z'.repeat(40)}${i}`, headers: { accept: 'application/json' } })
  for (let i = 0; i < 3; i++) await app.inject({ url: '/admin/subscribers.csv', headers: { authorization: `Bearer wrong-${ADMIN_TOKEN}` } })
  await app.inject({ url: '/admin/subscribers.csv', headers: staff })

  const logs = env.logText()
  const lines = env.logLines()
  t.ok(lines.length > 15, `${lines.length} log lines captured`)
  const confirmToken = pathOf(confirmUrl).split('/').pop()!
  const unsubscribeToken = pathOf(unsubscribeUrl).split('/').pop()!
  for (const secret of [confirmToken, unsubscribeToken, unsubscribeToken.split('.')[1], confirmUrl, unsubscribeUrl,
    pathOf(confirmUrl), pathOf(unsubscribeUrl), email, email.toLowerCase(), 'second.person@example.net', 'Jane.Doe', ADMIN_TOKEN]) {
    t.notOk(logs.includes(secret), `not in the logs: ${secret.slice(0, 24)}…`)
  }
  t.notMatch(logs, /[A-Za-z0-9_-]{43}/, 'nothing shaped like a token')
  t.match(logs, /J\*\*\*@Example\.org/, 'the address appears masked')
  const requests = lines.filter((l) => l.msg === 'request')
  t.ok(requests.some((l) => l.route === '/confirm/:token' && l.statusCode === 429), 'a refused request is logged by its route pattern')
  t.ok(requests.every((l) => !('url' in l)), 'request lines carry the route pattern, never the URL')
})
