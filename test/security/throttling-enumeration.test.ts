// List-bombing and enumeration (OWASP Forgot Password and Authentication Cheat Sheets): one address gets at most one confirmation mail per
// cooldown however many clients ask, concurrent duplicates make one row, and the answer to a sign-up is the
// same whatever state the address is in.
import t from 'tap'
import { sql } from 'drizzle-orm'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildTestApp, form, json, staff, type TestApp } from '../helpers/app.js'
import { waitUntil } from '../helpers/wait.js'
import { linkIn, pathOf } from '../helpers/mail.js'
import { outboxIdle, rowCount } from '../helpers/flow.js'

t.test('the same address from 20 different clients gets one confirmation mail and the same answer', async (t) => {
  const env = await buildTestApp(t, { TRUST_PROXY: '127.0.0.1' })
  const answers = []
  for (let i = 1; i <= 20; i++) {
    const req = json({ email: 'victim@example.org' })
    const res = await env.app.inject({ method: 'POST', url: '/subscribe', payload: req.payload, headers: { ...req.headers, 'x-forwarded-for': `203.0.113.${i}` } })
    answers.push(`${res.statusCode} ${res.body}`)
  }
  t.equal(new Set(answers).size, 1, 'every answer identical')
  t.match(answers[0], /^202 /)
  await env.smtp.waitFor(1)
  await outboxIdle(env.database)
  t.equal(env.smtp.mails.length, 1, 'one mail')
  t.equal(await rowCount(env.database, 'outbox'), 1, 'one outbox message')
})

t.test('30 concurrent sign-ups of one new address end with one subscriber row and one mail', async (t) => {
  const env = await buildTestApp(t, { RATE_LIMIT_SUBSCRIBE_MAX: '1000' })
  const responses = await Promise.all(Array.from({ length: 30 }, () =>
    env.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'Race@Example.org', name: 'Race' }) })))
  t.same([...new Set(responses.map((r) => `${r.statusCode} ${r.body}`))].length, 1, 'all 30 answers identical')
  t.equal(responses[0].statusCode, 202)
  t.equal(await rowCount(env.database, 'subscribers'), 1)
  await env.smtp.waitFor(1)
  await outboxIdle(env.database)
  t.equal(env.smtp.mails.length, 1)
})

/** The parts of an answer that could tell states apart. */
function visible (res: LightMyRequestResponse) {
  const h = res.headers
  return {
    status: res.statusCode,
    body: res.body,
    headerNames: Object.keys(h).sort(),
    contentType: h['content-type'],
    contentLength: h['content-length'],
    location: h.location,
    cacheControl: h['cache-control'],
    // A form sign-up's cookie holds what the visitor typed, sealed (for the "check your email" page): its value
    // depends on the address typed, never on its state, so only its shape is compared.
    setCookie: h['set-cookie'] === undefined ? undefined : String(h['set-cookie']).replace(/^joinlist_thanks=[\w-]+/, 'joinlist_thanks=…')
  }
}

async function states (env: TestApp, tag: string) {
  const { app, smtp } = env
  const sign = (email: string) => app.inject({ method: 'POST', url: '/subscribe', ...json({ email }) })
  await sign(`pending-${tag}@example.org`)
  await sign(`confirmed-${tag}@example.org`)
  await sign(`left-${tag}@example.org`)
  const mailTo = (addr: string) => smtp.mails.find((m) => m.envelope.to[0] === addr)!
  await waitUntil(() => ['pending', 'confirmed', 'left'].every((s) => mailTo(`${s}-${tag}@example.org`)))
  await app.inject({ method: 'POST', url: pathOf(linkIn(mailTo(`confirmed-${tag}@example.org`), '/confirm/')) })
  await app.inject({ method: 'POST', url: pathOf(linkIn(mailTo(`left-${tag}@example.org`), '/confirm/')) })
  await waitUntil(() => smtp.mails.filter((m) => m.envelope.to[0] === `left-${tag}@example.org`).length === 2)
  const welcome = smtp.mails.filter((m) => m.envelope.to[0] === `left-${tag}@example.org`)[1]
  const res = await app.inject({ method: 'POST', url: pathOf(linkIn(welcome, '/unsubscribe/')), payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  if (res.statusCode !== 200) throw new Error('unsubscribe failed')
  // Suppressed: erased by staff, only a hash is kept so it is never mailed again.
  await sign(`erased-${tag}@example.org`)
  const erased = await app.inject({ method: 'DELETE', url: `/admin/subscribers/erased-${tag}@example.org`, headers: staff })
  if (erased.statusCode !== 200) throw new Error(`erasure failed: ${erased.statusCode}`)
}

t.test('a sign-up answers identically for a new, pending, confirmed, unsubscribed and suppressed address (JSON and form)', async (t) => {
  const env = await buildTestApp(t, { RATE_LIMIT_SUBSCRIBE_MAX: '1000' })
  const ask = (app: FastifyInstance, email: string, asForm: boolean) =>
    app.inject({ method: 'POST', url: '/subscribe', ...(asForm ? form({ email }) : json({ email })) })
  for (const asForm of [false, true]) {
    const tag = asForm ? 'form' : 'json'
    await states(env, tag)
    const seen = []
    for (const email of [`new-${tag}@example.org`, `pending-${tag}@example.org`, `confirmed-${tag}@example.org`, `left-${tag}@example.org`, `erased-${tag}@example.org`]) {
      seen.push(visible(await ask(env.app, email, asForm)))
    }
    for (let i = 1; i < seen.length; i++) t.same(seen[i], seen[0], `${asForm ? 'form' : 'JSON'}: state ${i} answers like a new address`)
    t.equal(seen[0].status, asForm ? 303 : 202)
    if (asForm) t.equal(seen[0].setCookie, 'joinlist_thanks=…; Path=/; Max-Age=3600; SameSite=Lax; HttpOnly; Secure', 'only the sealed thanks cookie')
    else t.notOk(seen[0].setCookie, 'JSON: no cookie')
  }
})

t.test('latency of sign-ups per address state (printed, never asserted)', async (t) => {
  const env = await buildTestApp(t, { RATE_LIMIT_SUBSCRIBE_MAX: '100000', WORKER: 'false' })
  const { app, database } = env
  // 50 addresses in each state, made directly in the database so every call meets the state it is named for.
  for (const [status, prefix] of [['pending', 'p'], ['confirmed', 'c'], ['unsubscribed', 'u']] as const) {
    await database.rows(sql`
      WITH made AS (
        INSERT INTO subscribers (email, email_normalized, mailbox, status)
        SELECT ${prefix} || i || '@example.org', ${prefix} || i || '@example.org', ${prefix} || i || '@example.org',
          ${status}::subscriber_status
        FROM generate_series(1, 50) AS i
        RETURNING id, mailbox, status
      ), subscribed AS (
        INSERT INTO subscriptions (subscriber_id, list_id, status, signed_up_at)
        SELECT id, (SELECT id FROM lists WHERE slug = 'main'), status, now() FROM made
      )
      INSERT INTO mailbox_throttle (mailbox, last_sent_at, day, sends)
      SELECT mailbox, now(), current_date, 1 FROM made WHERE status = 'pending'`)
  }
  const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }
  const time = async (email: string) => {
    const start = process.hrtime.bigint()
    const res = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email }) })
    if (res.statusCode !== 202) throw new Error(`unexpected ${res.statusCode}`)
    return Number(process.hrtime.bigint() - start) / 1e6
  }
  const results: Record<string, number[]> = { new: [], pending: [], confirmed: [], unsubscribed: [] }
  // Interleaved, so drift (other processes, JIT warm-up) hits every state alike.
  for (let i = 1; i <= 50; i++) {
    results.new.push(await time(`n${i}@example.org`))
    results.pending.push(await time(`p${i}@example.org`))
    results.confirmed.push(await time(`c${i}@example.org`))
    results.unsubscribed.push(await time(`u${i}@example.org`))
  }
  for (const [state, xs] of Object.entries(results)) t.comment(`median sign-up latency, ${state}: ${median(xs).toFixed(2)} ms over ${xs.length} calls`)
  t.pass('medians printed above')
})
