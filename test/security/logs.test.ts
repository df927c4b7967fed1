// Security headers, log hygiene and staff routes (issue #3 items 8–9; STANDARDS C23, C25): a strict CSP on
// pages, nosniff, no referrer from token pages; no raw token, action URL or full address in any log line
// through a whole journey with SMTP; staff routes never change state on GET.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { ADMIN_TOKEN, buildTestApp, form, json, staff } from '../helpers/app.js'
import { linkIn, pathOf } from '../helpers/mail.js'
import { buildLoggedApp } from '../helpers/logs.js'

t.test('pages carry a strict CSP and nosniff; token pages send no referrer', async (t) => {
  const { app } = await buildTestApp(t)
  const home = await app.inject({ url: '/', headers: { accept: 'text/html' } })
  const csp = String(home.headers['content-security-policy'])
  t.match(csp, /default-src 'none'/)
  t.match(csp, /script-src 'none'/, 'no script runs on our pages')
  t.notMatch(csp, /script-src[^;]*'self'/)
  t.notMatch(csp, /unsafe-eval/)
  t.match(csp, /frame-ancestors 'none'/)
  t.match(csp, /form-action 'self'/)
  t.match(csp, /base-uri 'none'/)
  t.equal(home.headers['x-content-type-options'], 'nosniff')
  const token = 'A'.repeat(43)
  const unsub = `00000000-0000-4000-8000-000000000000.${'B'.repeat(43)}`
  for (const [method, url] of [['GET', `/confirm/${token}`], ['POST', `/confirm/${token}`], ['GET', `/unsubscribe/${unsub}`], ['POST', `/unsubscribe/${unsub}`]] as const) {
    const res = await app.inject({ method, url, headers: { accept: 'text/html' } })
    t.equal(res.headers['referrer-policy'], 'no-referrer', `${method} ${url.slice(0, 12)}…`)
    t.match(String(res.headers['content-security-policy']), /default-src 'none'/)
    t.equal(res.headers['x-content-type-options'], 'nosniff')
  }
})

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

t.test('no staff route changes state on GET; staff changes are the erasure DELETE and the outbox retry POSTs', async (t) => {
  const { app, database } = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'kept@example.org' }) })
  const routes = flatRoutes(app.printRoutes({ commonPrefix: false }))
  const admin = routes.filter((r) => r.path.startsWith('/admin'))
  t.ok(admin.length >= 4, admin.map((r) => `${r.path} (${r.methods.join(', ')})`).join('; '))
  const unsafe = admin.flatMap((r) => r.methods.filter((m) => m !== 'GET' && m !== 'HEAD').map((m) => `${m} ${r.path}`))
  t.same(unsafe.filter((r) => !/^DELETE /.test(r) && !/^POST \/admin\/outbox\//.test(r)), [],
    'state changes under /admin only by DELETE (erasure) and POST (outbox retries, refused cross-site): never GET')
  // Only the current state, not the audit ledger: reading personal data is itself recorded (issue #7).
  const snapshot = async () => JSON.stringify([
    await database.rows(sql`SELECT * FROM subscribers ORDER BY id`),
    await database.rows(sql`SELECT id, status, attempts, next_attempt_at FROM outbox ORDER BY id`),
    await database.rows(sql`SELECT * FROM suppressions`)
  ])
  await new Promise((resolve) => setTimeout(resolve, 300)) // let the worker send the confirmation first
  const before = await snapshot()
  for (const url of ['/admin/subscribers.csv', '/admin/subscribers.csv?status=all', '/admin/subscribers.csv?status=pending&since=2020-01-01',
    '/admin/subscribers/kept@example.org', '/admin/consent-texts/1', '/admin/mail-preview/confirmation', '/admin/mail-preview/welcome']) {
    t.equal((await app.inject({ url, headers: staff })).statusCode, 200, url)
    t.equal((await app.inject({ method: 'HEAD', url, headers: staff })).statusCode, 200)
  }
  t.equal(await snapshot(), before, 'subscribers, outbox and suppressions are unchanged by staff GETs')
})

/** The router's printed tree as full paths with their methods. */
function flatRoutes (tree: string): Array<{ path: string, methods: string[] }> {
  const out: Array<{ path: string, methods: string[] }> = []
  const stack: string[] = []
  for (const line of tree.split('\n')) {
    const m = /^(.*?)[└├]── (.*?)(?: \(([^)]*)\))?$/.exec(line)
    if (!m) continue
    const depth = [...m[1]].length / 4
    stack.length = depth
    stack.push(m[2])
    if (m[3]) out.push({ path: stack.join(''), methods: m[3].split(',').map((x) => x.trim()) })
  }
  return out
}
