// Staff routes against cross-site request forgery: HTTP Basic credentials are sent by the browser on their own, like a
// cookie, so a staff change posted from another website is refused (Sec-Fetch-Site, else Origin; OWASP CSRF
// Prevention Cheat Sheet), and no staff route changes anything on GET.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildTestApp, json, staff } from '../helpers/app.js'
import { outboxIdle } from '../helpers/flow.js'

t.test('a staff change posted from another website is refused, from this site or a script it works', async (t) => {
  const { app } = await buildTestApp(t)
  const forged = await app.inject({ method: 'POST', url: '/admin/outbox/retry-all', headers: { ...staff, 'sec-fetch-site': 'cross-site' } })
  t.equal(forged.statusCode, 403)
  t.equal(forged.json().error, 'cross_site')
  const byOrigin = await app.inject({ method: 'DELETE', url: '/admin/subscribers/a@example.org', headers: { ...staff, origin: 'https://evil.example' } })
  t.equal(byOrigin.statusCode, 403, 'Origin is checked where Sec-Fetch-Site is absent')
  const sameSite = await app.inject({ method: 'POST', url: '/admin/outbox/retry-all', headers: { ...staff, 'sec-fetch-site': 'same-origin', origin: 'https://news.example.org' } })
  t.equal(sameSite.statusCode, 200)
  const script = await app.inject({ method: 'POST', url: '/admin/outbox/retry-all', headers: staff })
  t.equal(script.statusCode, 200)
  const read = await app.inject({ url: '/admin/subscribers.csv', headers: { ...staff, 'sec-fetch-site': 'cross-site' } })
  t.equal(read.statusCode, 403, 'reads too: an export writes an audit row, and staff data is not for other sites')
})

t.test('no staff route changes state on GET; staff changes are DELETEs, POSTs and PATCHes (console forms carry a CSRF token)', async (t) => {
  const { app, database } = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'kept@example.org' }) })
  const routes = flatRoutes(app.printRoutes({ commonPrefix: false }))
  const admin = routes.filter((r) => r.path.startsWith('/admin'))
  t.ok(admin.length >= 4, admin.map((r) => `${r.path} (${r.methods.join(', ')})`).join('; '))
  const unsafe = admin.flatMap((r) => r.methods.filter((m) => m !== 'GET' && m !== 'HEAD').map((m) => `${m} ${r.path}`))
  t.same(unsafe.filter((r) => !/^(DELETE|POST|PATCH) /.test(r)), [],
    'state changes under /admin only by DELETE, POST and PATCH (refused cross-site; with a session, only with a CSRF token): never GET')
  // Only the current state, not the audit ledger: reading personal data is itself recorded there.
  const snapshot = async () => JSON.stringify([
    await database.rows(sql`SELECT * FROM subscribers ORDER BY id`),
    await database.rows(sql`SELECT id, status, attempts, next_attempt_at FROM outbox ORDER BY id`),
    await database.rows(sql`SELECT * FROM suppressions`)
  ])
  // The confirmation mail is sent (and its row marked sent) first, so only a staff GET could change the rows after.
  await outboxIdle(database)
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
