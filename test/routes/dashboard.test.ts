// The staff dashboard: its numbers match what happened, and only staff see it.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { dashboardStats } from '../../src/domain/stats.js'
import { ADMIN_TOKEN, buildTestApp, json, staff } from '../helpers/app.js'
import { linkIn, pathOf } from '../helpers/mail.js'
import { outboxIdle } from '../helpers/flow.js'

t.test('the dashboard needs a staff credential: a browser gets the Basic prompt until staff accounts exist, then the login form', async (t) => {
  const { app, database } = await buildTestApp(t)
  const prompt = await app.inject({ url: '/admin', headers: { accept: 'text/html' } })
  t.equal(prompt.statusCode, 401, 'only ADMIN_TOKEN so far: the browser asks for it')
  t.match(prompt.headers['www-authenticate'], /^Basic realm="Joinlist staff"/)
  await database.rows(sql`INSERT INTO staff_accounts (email, email_normalized, role, created_by) VALUES ('o@example.org', 'o@example.org', 'owner', 'test')`)
  const anonymous = await app.inject({ url: '/admin', headers: { accept: 'text/html' } })
  t.equal(anonymous.statusCode, 303)
  t.equal(anonymous.headers.location, '/admin/login?next=%2Fadmin')
  const script = await app.inject({ url: '/admin' })
  t.equal(script.statusCode, 401)
  t.match(script.headers['www-authenticate'], /^Basic realm="Joinlist staff"/)
  const wrong = await app.inject({ url: '/admin', headers: { authorization: `Basic ${Buffer.from('staff:nope').toString('base64')}` } })
  t.equal(wrong.statusCode, 401)
  const basic = await app.inject({ url: '/admin', headers: { authorization: `Basic ${Buffer.from(`anyone:${ADMIN_TOKEN}`).toString('base64')}` } })
  t.equal(basic.statusCode, 200)
  t.equal(basic.headers['cache-control'], 'no-store')
})

t.test('without ADMIN_TOKEN the dashboard is closed', async (t) => {
  const { app } = await buildTestApp(t, { ADMIN_TOKEN: '' })
  const res = await app.inject({ url: '/admin', headers: staff })
  t.equal(res.statusCode, 503)
  t.equal(res.json().error, 'staff_disabled')
})

t.test('the dashboard shows counts by status, sign-ups per day, the confirmation rate, dead mail and downloads', async (t) => {
  const { app, smtp, database, clock } = await buildTestApp(t)
  for (const email of ['a@example.org', 'b@example.org', 'c@example.org']) {
    t.equal((await app.inject({ method: 'POST', url: '/subscribe', ...json({ email }) })).statusCode, 202)
  }
  const mails = await smtp.waitFor(3)
  const toA = mails.find((m) => m.envelope.to.includes('a@example.org'))!
  t.equal((await app.inject({ method: 'POST', url: pathOf(linkIn(toA, '/confirm/')), headers: { accept: 'application/json' } })).statusCode, 200)
  await smtp.waitFor(4)
  // Sent marks follow the delivery by a moment (they are grouped): wait for them.
  await outboxIdle(database)
  // One message that could never be delivered.
  await database.rows(sql`UPDATE outbox SET status = 'dead' WHERE id = (SELECT min(id) FROM outbox WHERE status = 'sent')`)

  const stats = await dashboardStats(database, clock.now())
  t.equal(stats.days.length, 90, 'one entry per day, zeros included')
  t.same(stats.byStatus, { confirmed: 1, pending: 2, unsubscribed: 0 })
  t.same(stats.days.at(-1), { day: clock.now().toISOString().slice(0, 10), signups: 3, confirmed: 1, pending: 2 })
  t.same(stats.outbox, { backlog: 0, dead: 1, sent: 3 })

  const page = (await app.inject({ url: '/admin', headers: { ...staff, accept: 'text/html' } })).body
  t.match(page, '<h1>Subscribers dashboard</h1>')
  t.match(page, '<li><strong>1</strong> Confirmed</li>')
  t.match(page, '<li><strong>2</strong> Pending</li>')
  t.match(page, '1 of 3 sign-ups in the last 90 days confirmed (33.3%).')
  t.match(page, /<svg viewBox="0 0 900 240"[^>]*role="img" aria-labelledby="chart-title chart-desc"/)
  t.match(page, `<tr><th scope="row">${stats.days.at(-1)!.day}</th><td class="num">3</td><td class="num">1</td><td class="num">2</td></tr>`)
  t.match(page, '<li><strong>1</strong> Failed for good (dead)</li>')
  for (const status of ['confirmed', 'pending', 'unsubscribed', 'all']) {
    t.match(page, `href="/admin/subscribers.csv?status=${status}" download`)
  }
  t.notMatch(page, /@example\.org/, 'no address on the dashboard')
})

t.test('an empty list shows zeros and no rate', async (t) => {
  const { app } = await buildTestApp(t)
  const page = (await app.inject({ url: '/admin', headers: staff })).body
  t.match(page, 'No sign-ups in the last 90 days.')
  t.match(page, '<li><strong>0</strong> Confirmed</li>')
})
