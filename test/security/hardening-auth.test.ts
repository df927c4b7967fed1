// Staff credentials: one lockout for every staff route (/admin/* and /metrics) that holds under concurrent guesses
// and while Redis is down, and no staff route (reads included) answered to another website.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer, type AddressInfo } from 'node:net'
import t from 'tap'
import { sql } from 'drizzle-orm'
import { ADMIN_TOKEN, buildTestApp, PUBLIC_URL, staff } from '../helpers/app.js'
import { waitUntil } from '../helpers/wait.js'

const METRICS_TOKEN = 'metrics-secret-for-tests-0123456789abcd'
const basic = `Basic ${Buffer.from(`staff:${ADMIN_TOKEN}`).toString('base64')}`
const uniquePrefix = () => `joinlist-test-${randomBytes(6).toString('hex')}:`
const guess = (i: number) => ({ authorization: `Bearer wrong-guess-${i}`, accept: 'application/json' })

t.test('wrong tokens at /metrics lock the client out of /metrics and /admin; another client is unaffected', async (t) => {
  const { app } = await buildTestApp(t, { METRICS_TOKEN, RATE_LIMIT_STAFF_FAILURES: '3', TRUST_PROXY: '127.0.0.1' })
  const attacker = { 'x-forwarded-for': '192.0.2.10' }
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push((await app.inject({ url: '/metrics', headers: { ...guess(i), ...attacker } })).statusCode)
  t.same(statuses, [401, 401, 401, 429], 'wrong guesses at /metrics count toward the staff lockout')
  for (const [url, authorization] of [['/metrics', `Bearer ${METRICS_TOKEN}`], ['/metrics', `Bearer ${ADMIN_TOKEN}`], ['/admin/outbox', `Bearer ${ADMIN_TOKEN}`], ['/admin', basic]]) {
    const res = await app.inject({ url, headers: { authorization, accept: 'application/json', ...attacker } })
    t.equal(res.statusCode, 429, `the right credential at ${url} is refused while locked out`)
    t.ok(Number(res.headers['retry-after']) > 0)
  }
  t.equal((await app.inject({ method: 'HEAD', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}`, ...attacker } })).statusCode, 429, 'HEAD too')
  const other = { 'x-forwarded-for': '192.0.2.11' }
  t.equal((await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}`, ...other } })).statusCode, 200, 'another client: /metrics')
  t.equal((await app.inject({ url: '/admin/outbox', headers: { ...staff, ...other } })).statusCode, 200, 'another client: /admin')
})

t.test('wrong guesses at /admin lock the client out of /metrics too', async (t) => {
  const { app } = await buildTestApp(t, { METRICS_TOKEN, RATE_LIMIT_STAFF_FAILURES: '2' })
  for (let i = 0; i < 2; i++) t.equal((await app.inject({ url: '/admin/outbox', headers: guess(i) })).statusCode, 401)
  t.equal((await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).statusCode, 429)
})

// Checking the lockout and recording the failure as two steps let every guess sent at once pass the check before
// any failure was counted: an unlimited oracle for whoever sends guesses in parallel.
for (const store of ['memory', 'redis'] as const) {
  t.test(`guesses sent all at once are counted one by one (${store} counters)`, async (t) => {
    const env = { RATE_LIMIT_STAFF_FAILURES: '3', ...(store === 'redis' ? { REDIS_URL: 'redis://127.0.0.1:6379', RATE_LIMIT_PREFIX: uniquePrefix() } : {}) }
    const { app } = await buildTestApp(t, { METRICS_TOKEN, ...env })
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      app.inject({ url: i % 2 ? '/metrics' : '/admin/outbox', headers: guess(i) })))
    const statuses = burst.map((r) => r.statusCode)
    t.equal(statuses.filter((s) => s === 401).length, 3, `3 guesses checked, the rest refused: ${statuses.join(' ')}`)
    t.equal(statuses.filter((s) => s === 429).length, 27)
    t.equal((await app.inject({ url: '/admin/outbox', headers: staff })).statusCode, 429, 'and the right token is refused after the burst')
  })
}

t.test('successful staff requests, even many at once, never lock anyone out', async (t) => {
  const { app } = await buildTestApp(t, { METRICS_TOKEN, RATE_LIMIT_STAFF_FAILURES: '3' })
  for (let round = 0; round < 3; round++) {
    const ok = await Promise.all(Array.from({ length: 3 }, () => app.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })))
    t.same(ok.map((r) => r.statusCode), [200, 200, 200])
  }
  t.equal((await app.inject({ url: '/admin/outbox', headers: guess(1) })).statusCode, 401, 'a failure after them is the first one')
  for (let i = 0; i < 10; i++) t.equal((await app.inject({ url: '/admin/outbox', headers: staff })).statusCode, 200)
})

t.test('with Redis unreachable, the staff lockout still holds (per process); sign-ups still go through', async (t) => {
  const { app } = await buildTestApp(t, { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_STAFF_FAILURES: '3', RATE_LIMIT_SUBSCRIBE_MAX: '1' })
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push((await app.inject({ url: '/admin/outbox', headers: guess(i) })).statusCode)
  t.same(statuses, [401, 401, 401, 429])
  t.equal((await app.inject({ url: '/metrics', headers: staff })).statusCode, 429, 'the right token is refused while locked out')
  const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => app.inject({ url: '/admin/outbox', headers: guess(100 + i) })))
  t.ok(burst.every((r) => r.statusCode === 429), 'concurrent guesses are refused too')
  const signups = []
  for (let i = 0; i < 3; i++) {
    signups.push((await app.inject({ method: 'POST', url: '/subscribe', payload: { email: `down${i}@example.org` }, headers: { accept: 'application/json' } })).statusCode)
  }
  t.same(signups, [202, 202, 202], 'sign-up limits still fail open (documented)')
})

const freePort = () => new Promise<number>((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo
    server.close(() => resolve(port))
  })
})

t.test('when a private Redis stops mid-way, failures go on locking out (per process)', async (t) => {
  const port = await freePort()
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  t.teardown(() => { if (redis.exitCode === null) redis.kill('SIGKILL') })
  const exited = new Promise((resolve) => redis.once('exit', resolve))
  const { app } = await buildTestApp(t, { REDIS_URL: `redis://127.0.0.1:${port}`, RATE_LIMIT_PREFIX: uniquePrefix(), RATE_LIMIT_STAFF_FAILURES: '2' })
  await waitUntil(async () => (await app.inject({ url: '/admin/outbox', headers: staff })).statusCode === 200, 10_000, () => 'the app to reach Redis')
  t.equal((await app.inject({ url: '/admin/outbox', headers: guess(0) })).statusCode, 401, 'one failure counted in Redis')
  redis.kill('SIGTERM')
  await exited
  const statuses = []
  for (let i = 1; i < 4; i++) statuses.push((await app.inject({ url: '/admin/outbox', headers: guess(i) })).statusCode)
  t.same(statuses, [401, 401, 429], 'the per-process counter takes over')
  t.equal((await app.inject({ url: '/admin/outbox', headers: staff })).statusCode, 429)
})

t.test('a staff page opened from a link on another site gets a 403 page linking to the same URL here', async (t) => {
  const { app } = await buildTestApp(t)
  const navigate = (url: string, site: string) => app.inject({
    url,
    headers: { authorization: basic, accept: 'text/html,application/xhtml+xml', 'sec-fetch-site': site, 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }
  })
  for (const url of ['/admin', '/admin/subscribers.csv?status=all&since=2020-01-01', '/admin/mail-preview/welcome']) {
    const res = await navigate(url, 'cross-site')
    t.equal(res.statusCode, 403, url)
    t.match(res.headers['content-type'], /text\/html/)
    t.match(res.body, /<h1>[^<]+<\/h1>/)
    t.match(res.body, /another website/)
    const href = /<a href="([^"]+)">/.exec(res.body.slice(res.body.indexOf('<main')))?.[1].replace(/&amp;/g, '&')
    t.equal(href, `${PUBLIC_URL}${url}`, 'the page links to the same URL on this site')
    // Following that link from our own page is a same-origin navigation.
    t.equal((await navigate(new URL(href!).pathname + new URL(href!).search, 'same-origin')).statusCode, 200, `${url} from our page`)
  }
  t.equal((await navigate('/admin', 'same-site')).statusCode, 403, 'a sibling site is another website too')
  t.equal((await navigate('/admin', 'none')).statusCode, 200, 'typed in the address bar or opened from a bookmark')
})

t.test('cross-site staff reads are refused for JSON callers too, and write no audit row', async (t) => {
  const { app, database } = await buildTestApp(t, { METRICS_TOKEN })
  const exports = async () => (await database.rows(sql`SELECT id FROM consent_events WHERE type = 'export'`)).length
  for (const [url, headers] of [
    ['/admin/subscribers.csv', { ...staff, 'sec-fetch-site': 'cross-site', accept: 'application/json' }],
    ['/admin/subscribers.csv', { ...staff, origin: 'https://evil.example' }],
    ['/admin/outbox', { ...staff, 'sec-fetch-site': 'cross-site' }],
    ['/metrics', { authorization: `Bearer ${METRICS_TOKEN}`, 'sec-fetch-site': 'cross-site' }]
  ] as const) {
    const res = await app.inject({ url, headers })
    t.equal(res.statusCode, 403, url)
    t.match(res.json(), { error: 'cross_site', message: /another website/ })
  }
  t.equal(await exports(), 0, 'no export ran, none is on record')
  t.equal((await app.inject({ method: 'HEAD', url: '/admin/subscribers.csv', headers: { ...staff, 'sec-fetch-site': 'cross-site' } })).statusCode, 403, 'HEAD too')
  t.equal((await app.inject({ url: '/admin/subscribers.csv', headers: staff })).statusCode, 200, 'a script sends neither header and passes')
  t.equal((await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).statusCode, 200, 'so does a scraper')
  t.equal(await exports(), 1)
})

t.test("the dashboard's own download links keep working (same-origin)", async (t) => {
  const { app } = await buildTestApp(t)
  const sameOrigin = { authorization: basic, 'sec-fetch-site': 'same-origin', accept: 'text/html' }
  const dashboard = await app.inject({ url: '/admin', headers: sameOrigin })
  t.equal(dashboard.statusCode, 200)
  const links = [...dashboard.body.matchAll(/href="(\/admin\/[^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&'))
  t.ok(links.length >= 4, links.join(' '))
  for (const link of links) {
    const res = await app.inject({ url: link, headers: { ...sameOrigin, 'sec-fetch-mode': 'navigate', referer: `${PUBLIC_URL}/admin` } })
    t.equal(res.statusCode, 200, link)
  }
})
