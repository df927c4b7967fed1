// Per-client rate limits (OWASP ASVS 5.0 2.4.1): 429 with Retry-After, shared through Redis by several
// instances, keyed on the real client (a forged X-Forwarded-For changes nothing), and never in the way of
// RFC 8058 one-click unsubscribes; plus the lockout after failed staff logins.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { sql } from 'drizzle-orm'
import { unsubscribeToken } from '../../src/domain/tokens.js'
import { ADMIN_TOKEN, buildTestApp, json, staff } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'

const signup = (i: number, headers: Record<string, string> = {}) => {
  const req = json({ email: `visitor${i}@example.org` })
  return { method: 'POST' as const, url: '/subscribe', payload: req.payload, headers: { ...req.headers, ...headers } }
}
const uniquePrefix = () => `joinlist-test-${randomBytes(6).toString('hex')}:`

t.test('sign-ups over the per-client limit get 429 with Retry-After and a clear message, as JSON or a page', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_SUBSCRIBE_MAX: '3', RATE_LIMIT_WINDOW_SECONDS: '60' })
  for (let i = 0; i < 3; i++) t.equal((await app.inject(signup(i))).statusCode, 202)
  const limited = await app.inject(signup(3))
  t.equal(limited.statusCode, 429)
  t.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 60, `Retry-After: ${limited.headers['retry-after']}`)
  t.match(limited.json(), { error: 'rate_limited', message: /Too many requests.*Try again in/ })
  const page = await app.inject({ ...signup(4), headers: { 'content-type': 'application/json', accept: 'text/html' } })
  t.equal(page.statusCode, 429)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, /<h1>Too many requests<\/h1>/)
})

t.test('a forged X-Forwarded-For from a client that is not a trusted proxy does not change the key', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_SUBSCRIBE_MAX: '3' })
  const statuses = []
  for (let i = 0; i < 6; i++) statuses.push((await app.inject(signup(i, { 'x-forwarded-for': `203.0.113.${i}` }))).statusCode)
  t.same(statuses, [202, 202, 202, 429, 429, 429])
})

t.test('behind a trusted proxy each forwarded client has its own limit', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_SUBSCRIBE_MAX: '2', TRUST_PROXY: '127.0.0.1' })
  const a = []; const b = []
  for (let i = 0; i < 3; i++) a.push((await app.inject(signup(i, { 'x-forwarded-for': '198.51.100.7' }))).statusCode)
  for (let i = 3; i < 5; i++) b.push((await app.inject(signup(i, { 'x-forwarded-for': '198.51.100.8' }))).statusCode)
  t.same(a, [202, 202, 429])
  t.same(b, [202, 202], 'another client behind the same proxy is not affected')
})

t.test('token endpoints are limited per client, but a genuine one-click unsubscribe is never refused', async (t) => {
  const { app, database } = await buildTestApp(t, { RATE_LIMIT_TOKEN_MAX: '3' })
  const confirmStatuses = []
  for (let i = 0; i < 4; i++) confirmStatuses.push((await app.inject({ url: `/confirm/${'x'.repeat(40)}${i}`, headers: { accept: 'application/json' } })).statusCode)
  t.same(confirmStatuses, [404, 404, 404, 429], 'GET /confirm (an unknown link says so at once, and is counted)')
  const postConfirm = []
  for (let i = 0; i < 4; i++) postConfirm.push((await app.inject({ method: 'POST', url: `/confirm/${'y'.repeat(40)}${i}`, headers: { accept: 'application/json' } })).statusCode)
  t.same(postConfirm, [404, 404, 404, 429], 'POST /confirm (each method and route has its own counter)')

  // Forged unsubscribe tokens use up this client's allowance…
  const forged = []
  for (let i = 0; i < 4; i++) forged.push((await app.inject({ method: 'POST', url: `/unsubscribe/00000000-0000-4000-8000-00000000000${i}.forged`, headers: { accept: 'application/json' } })).statusCode)
  t.same(forged, [404, 404, 404, 429])

  // …but a mailbox provider posting genuine one-click unsubscribes from this same address is counted per
  // subscriber, so the posts for many subscribers all succeed (RFC 8058 §3.1).
  for (let i = 0; i < 5; i++) await app.inject(signup(100 + i))
  const ids = await database.rows<{ public_id: string, unsubscribe_secret: string }>(sql`SELECT public_id, unsubscribe_secret FROM subscribers ORDER BY id`)
  t.equal(ids.length, 5)
  for (const { public_id: publicId, unsubscribe_secret: secret } of ids) {
    const res = await app.inject({
      method: 'POST',
      url: `/unsubscribe/${unsubscribeToken(publicId, secret)}`,
      payload: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' }
    })
    t.equal(res.statusCode, 200, 'one-click unsubscribe answered 200')
  }
  // The same genuine link hammered is still capped (per subscriber).
  const token = unsubscribeToken(ids[0].public_id, ids[0].unsubscribe_secret)
  const repeats = []
  for (let i = 0; i < 4; i++) repeats.push((await app.inject({ url: `/unsubscribe/${token}`, headers: { accept: 'text/html' } })).statusCode)
  t.same(repeats, [200, 200, 200, 429], 'the page for one subscriber\'s link, hammered')
})

t.test('with REDIS_URL two instances share one limit', async (t) => {
  const { database } = await testDatabase(t)
  const env = { REDIS_URL: 'redis://127.0.0.1:6379', RATE_LIMIT_PREFIX: uniquePrefix(), RATE_LIMIT_SUBSCRIBE_MAX: '3' }
  const one = await buildTestApp(t, env, { database })
  const two = await buildTestApp(t, env, { database })
  const statuses = [
    (await one.app.inject(signup(1))).statusCode,
    (await two.app.inject(signup(2))).statusCode,
    (await one.app.inject(signup(3))).statusCode,
    (await two.app.inject(signup(4))).statusCode,
    (await one.app.inject(signup(5))).statusCode
  ]
  t.same(statuses, [202, 202, 202, 429, 429], 'max 3 in all, not 3 per instance')
})

t.test('with Redis unreachable, requests still go through (skipOnError) instead of failing', async (t) => {
  const { app } = await buildTestApp(t, { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_SUBSCRIBE_MAX: '1' })
  const statuses = []
  for (let i = 0; i < 3; i++) statuses.push((await app.inject(signup(i))).statusCode)
  t.same(statuses, [202, 202, 202], 'no 500s; the per-address cooldown in PostgreSQL still holds')
})

t.test('failed staff logins lock the client out, even for the right token, until the window ends', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_STAFF_FAILURES: '3', RATE_LIMIT_STAFF_WINDOW_SECONDS: '900', TRUST_PROXY: '127.0.0.1' })
  const attacker = { 'x-forwarded-for': '192.0.2.66' }
  t.equal((await app.inject({ url: '/admin/subscribers.csv', headers: { ...staff, ...attacker } })).statusCode, 200, 'success does not count')
  const wrong = []
  for (let i = 0; i < 4; i++) {
    wrong.push((await app.inject({ url: '/admin/subscribers.csv', headers: { authorization: `Bearer guess-${i}`, accept: 'application/json', ...attacker } })).statusCode)
  }
  t.same(wrong, [401, 401, 401, 429])
  const locked = await app.inject({ url: '/admin/subscribers.csv', headers: { ...staff, accept: 'application/json', ...attacker } })
  t.equal(locked.statusCode, 429, 'the right token is not even checked while locked out')
  t.ok(Number(locked.headers['retry-after']) > 800, `Retry-After: ${locked.headers['retry-after']}`)
  t.match(locked.json(), { error: 'rate_limited', message: /failed attempts/ })
  const basic = `Basic ${Buffer.from(`staff:${ADMIN_TOKEN}`).toString('base64')}`
  t.equal((await app.inject({ url: '/admin/subscribers.csv', headers: { authorization: basic, 'x-forwarded-for': '192.0.2.67' } })).statusCode, 200,
    'another client is not locked out')
})
