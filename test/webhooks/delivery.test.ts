// Webhooks as a receiver sees them: a real HTTP server in the test process gets every event of a subscriber's
// journey, in order, signed per Standard Webhooks; the signatures are checked with the specification's own
// implementation (the `standardwebhooks` package), never with the sender's code. Then retries (the same
// webhook-id every time), a 410, dead deliveries and their retry button, a slow target, and the address checks.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import { buildTestApp, json, staff, type TestApp } from '../helpers/app.js'
import { signUp, signUpAndConfirm } from '../helpers/flow.js'
import { linkIn, pathOf } from '../helpers/mail.js'
import { startReceiver, type Receiver } from '../helpers/receiver.js'
import { waitForMailTo } from '../helpers/smtp.js'
import { waitUntil } from '../helpers/wait.js'

const WEBHOOK_ENV = {
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_RETRY_MAX_MS: '200',
  WEBHOOK_TIMEOUT_MS: '1000',
  WEBHOOK_LEASE_SECONDS: '5'
}
/** A JSON body with the owner's credential. */
const asStaff = (body: object) => { const j = json(body); return { ...j, headers: { ...j.headers, ...staff } } }
const ALL = ['subscription.pending', 'subscription.confirmed', 'subscription.unsubscribed', 'subscriber.erased']

async function addEndpoint (app: TestApp['app'], url: string, extra: Record<string, unknown> = {}) {
  const res = await app.inject({ method: 'POST', url: '/admin/api/webhooks', ...asStaff({ url, eventTypes: ALL, ...extra }) })
  if (res.statusCode !== 201) throw new Error(`adding the endpoint answered ${res.statusCode}: ${res.body}`)
  return res.json() as { endpoint: { id: string, enabled: boolean }, secret: string }
}

async function deliveries (app: TestApp['app'], endpointId: string) {
  const res = await app.inject({ url: `/admin/api/webhooks/${endpointId}/deliveries`, headers: staff })
  return (res.json() as { deliveries: Array<{ id: number, eventId: string, status: string, attempts: number, lastStatusCode: number | null, lastResponse: string | null, lastError: string | null }> }).deliveries
}

/** Verifies a received request with the reference implementation; throws if the signature is wrong. */
const verify = (secret: string, r: Receiver['requests'][number]) => new Webhook(secret).verify(r.body, r.headers)

t.test('a subscriber\'s journey reaches the receiver in order, signed per the specification', async (t) => {
  const ta = await buildTestApp(t, WEBHOOK_ENV)
  const receiver = await startReceiver(t)
  const { secret } = await addEndpoint(ta.app, receiver.url)
  t.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/, 'a whsec_ secret, shown once')
  const listed = await ta.app.inject({ url: '/admin/api/webhooks', headers: staff })
  t.notOk(listed.body.includes(secret), 'the secret is never shown again')

  await signUpAndConfirm(ta, 'jane@example.org', { name: 'Jane' }, { 'user-agent': 'ConfirmBrowser/1' })
  const [pending, confirmed] = await receiver.waitForDelivered(2)
  for (const r of [pending, confirmed]) t.doesNotThrow(() => verify(secret, r), `${r.json.type}: the signature verifies`)
  t.equal(pending.json.type, 'subscription.pending')
  t.equal(confirmed.json.type, 'subscription.confirmed')
  t.match(confirmed.json, {
    timestamp: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
    data: {
      subscriber: { id: /^[0-9a-f-]{36}$/, email: 'jane@example.org', name: 'Jane' },
      list: { slug: 'main', name: 'Policy Notes' },
      status: 'confirmed',
      consent: { signedUpAt: String, consentTextVersion: Number, consentText: /Policy Notes/, confirmedAt: String, confirmUserAgent: 'ConfirmBrowser/1' }
    }
  }, 'the confirmed event carries the address, name, list and consent evidence')
  t.equal(pending.headers['content-type'], 'application/json')
  t.match(pending.id, /^evt_[0-9a-f]{32}$/)
  t.not(pending.id, confirmed.id, 'one webhook-id per event')

  // Tampering is caught by the reference implementation too: the signature covers the body.
  t.throws(() => verify(secret, { ...pending, body: pending.body.replace('jane', 'joan') }), 'a changed body fails verification')

  const welcome = await waitForMailTo(ta.smtp, 'jane@example.org', 2)
  const unsubscribe = await ta.app.inject({ method: 'POST', url: pathOf(linkIn(welcome, '/unsubscribe/')), headers: { accept: 'application/json' } })
  t.equal(unsubscribe.statusCode, 200)
  const unsubscribed = (await receiver.waitForDelivered(3))[2]
  t.match(unsubscribed.json, { type: 'subscription.unsubscribed', data: { status: 'unsubscribed', unsubscribe: { method: 'link' } } })
  t.doesNotThrow(() => verify(secret, unsubscribed))

  t.equal((await ta.app.inject({ method: 'DELETE', url: '/admin/subscribers/jane@example.org', headers: staff })).statusCode, 200)
  const erased = (await receiver.waitForDelivered(4))[3]
  t.same(erased.json.data, { subscriber: { id: pending.json.data.subscriber.id } }, 'the erasure carries the subscriber id only')
  t.notOk(erased.body.includes('jane'), 'no address in the erasure')
  t.doesNotThrow(() => verify(secret, erased))
  const [left] = await ta.database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM webhook_events WHERE data::text ILIKE '%jane@%'`)
  t.equal(Number(left.n), 0, 'the erased subscriber\'s earlier events, which held the address, are gone')
  t.equal(receiver.requests.length, 4, 'four events, four requests: nothing was sent twice')
})

t.test('500 twice then 200: one delivery, tried three times with the same webhook-id; a slow target times out and is retried', async (t) => {
  const ta = await buildTestApp(t, WEBHOOK_ENV)
  const receiver = await startReceiver(t)
  const { endpoint, secret } = await addEndpoint(ta.app, receiver.url)
  receiver.failNext(500, 503)
  await signUp(ta.app, 'retry@example.org')
  const [ok] = await receiver.waitForDelivered(1)
  t.equal(receiver.requests.length, 3)
  t.same(new Set(receiver.requests.map((r) => r.id)).size, 1, 'the same webhook-id on every try')
  for (const r of receiver.requests) t.doesNotThrow(() => verify(secret, r))
  t.equal(ok.json.type, 'subscription.pending')
  await waitUntil(async () => (await deliveries(ta.app, endpoint.id))[0]?.status === 'delivered')
  t.match((await deliveries(ta.app, endpoint.id))[0], { status: 'delivered', attempts: 3, lastStatusCode: 200 })

  // Slower than WEBHOOK_TIMEOUT_MS: the try counts as failed; the next one (answered at once) delivers it.
  receiver.delayMs = 1500
  await signUp(ta.app, 'slow@example.org')
  await waitUntil(() => receiver.requests.length >= 4, 10_000, () => 'the slow try')
  receiver.delayMs = 0
  await waitUntil(async () => (await deliveries(ta.app, endpoint.id)).filter((d) => d.status === 'delivered').length === 2, 10_000, () => 'the slow event delivered')
  const slow = (await deliveries(ta.app, endpoint.id))[0]
  t.ok(slow.attempts >= 2, 'the timed-out try was retried')
  t.same(new Set(receiver.requests.slice(3).map((r) => r.id)).size, 1, 'with the same webhook-id')
})

t.test('a 410 turns the endpoint off; turned on again, the event arrives', async (t) => {
  const ta = await buildTestApp(t, WEBHOOK_ENV)
  const receiver = await startReceiver(t)
  const { endpoint } = await addEndpoint(ta.app, receiver.url)
  receiver.failNext(410)
  await signUp(ta.app, 'gone@example.org')
  await waitUntil(async () => !(await ta.app.inject({ url: `/admin/api/webhooks/${endpoint.id}`, headers: staff })).json().enabled)
  const off = (await ta.app.inject({ url: `/admin/api/webhooks/${endpoint.id}`, headers: staff })).json()
  t.match(off, { enabled: false, disabledReason: /410/ })
  t.equal(receiver.delivered().length, 0)

  const on = await ta.app.inject({ method: 'PATCH', url: `/admin/api/webhooks/${endpoint.id}`, ...asStaff({ enabled: true }) })
  t.match(on.json(), { enabled: true, disabledReason: null })
  const [got] = await receiver.waitForDelivered(1)
  t.equal(got.id, receiver.requests[0].id, 'the same event, the same webhook-id')
})

t.test('after the last attempt a delivery is dead, visible in the log with the answer cut short, and the retry button sends it', async (t) => {
  const ta = await buildTestApp(t, { ...WEBHOOK_ENV, WEBHOOK_MAX_ATTEMPTS: '2' })
  const receiver = await startReceiver(t)
  const { endpoint } = await addEndpoint(ta.app, receiver.url)
  receiver.answer = 500
  await signUp(ta.app, 'dead@example.org')
  await waitUntil(async () => (await deliveries(ta.app, endpoint.id))[0]?.status === 'dead')
  const [dead] = await deliveries(ta.app, endpoint.id)
  t.match(dead, { status: 'dead', attempts: 2, lastStatusCode: 500, lastError: 'HTTP 500' })
  t.ok(dead.lastResponse!.length <= 300, 'at most 300 characters of the answer kept')
  t.equal(receiver.requests.length, 2)

  receiver.answer = 200
  const retry = await ta.app.inject({ method: 'POST', url: `/admin/api/webhooks/${endpoint.id}/deliveries/${dead.id}/retry`, headers: staff })
  t.same(retry.json(), { requeued: 1 })
  await receiver.waitForDelivered(1)
  t.equal(receiver.delivered()[0].id, dead.eventId)
  t.equal((await ta.app.inject({ method: 'POST', url: `/admin/api/webhooks/${endpoint.id}/deliveries/${dead.id}/retry`, headers: staff })).statusCode, 404,
    'a delivery that is not dead cannot be retried')
})

t.test('a target that never answers does not hold up sign-ups or confirmation mail', async (t) => {
  const ta = await buildTestApp(t, WEBHOOK_ENV)
  const receiver = await startReceiver(t)
  await addEndpoint(ta.app, receiver.url)
  receiver.hold()
  await signUp(ta.app, 'first@example.org')
  await waitUntil(() => receiver.arrived === 1, 10_000, () => 'the first delivery to be held')
  for (const email of ['a@example.org', 'b@example.org', 'c@example.org']) {
    t.equal((await signUp(ta.app, email)).statusCode, 202)
    const mail = await waitForMailTo(ta.smtp, email)
    t.equal((await ta.app.inject({ method: 'POST', url: pathOf(linkIn(mail, '/confirm/')), headers: { accept: 'application/json' } })).statusCode, 200)
  }
  t.pass('sign-ups, mails and confirmations went through while the target held every request')
  receiver.release()
})

t.test('targets on private addresses are refused when saved and when connecting, unless allowed', async (t) => {
  const ta = await buildTestApp(t, { ...WEBHOOK_ENV, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' })
  const receiver = await startReceiver(t)
  for (const url of ['http://example.org/hook', 'https://127.0.0.1/hook', 'https://[::1]/hook', 'https://169.254.169.254/latest',
    'https://10.1.2.3/', 'https://localhost/hook', 'https://[::ffff:127.0.0.1]/', 'https://user:pw@example.org/', 'ftp://example.org/']) {
    const res = await ta.app.inject({ method: 'POST', url: '/admin/api/webhooks', ...asStaff({ url, eventTypes: ALL }) })
    t.equal(res.statusCode, 400, `${url} refused`)
    t.equal(res.json().field, 'url')
  }
  // A saved target that now points to this machine (as a DNS change would make it): refused when connecting,
  // both as an address literal and as a name that resolves to one.
  const { endpoint } = await addEndpoint(ta.app, 'https://hooks.example.org/in')
  const second = await addEndpoint(ta.app, 'https://hooks.example.org/in2')
  await ta.database.rows(sql`UPDATE webhook_endpoints SET url = ${receiver.url} WHERE public_id = ${endpoint.id}`)
  await ta.database.rows(sql`UPDATE webhook_endpoints SET url = ${`http://localhost:${receiver.port}/hook`} WHERE public_id = ${second.endpoint.id}`)
  await signUp(ta.app, 'ssrf@example.org')
  await waitUntil(async () => {
    const logs = [...await deliveries(ta.app, endpoint.id), ...await deliveries(ta.app, second.endpoint.id)]
    return logs.length === 2 && logs.every((d) => d.attempts >= 1 && d.lastError !== null)
  })
  const [literal] = await deliveries(ta.app, endpoint.id)
  const [named] = await deliveries(ta.app, second.endpoint.id)
  t.match(literal.lastError, /may not reach/)
  t.match(named.lastError, /may not reach/)
  t.equal(receiver.requests.length, 0, 'the receiver on 127.0.0.1 got nothing')
})

t.test('webhook management is for owners; the list filter; staff only', async (t) => {
  const ta = await buildTestApp(t, WEBHOOK_ENV)
  t.equal((await ta.app.inject({ url: '/admin/api/webhooks' })).statusCode, 401)
  t.equal((await ta.app.inject({ url: '/admin/api/changes' })).statusCode, 401)
  const bad = await ta.app.inject({ method: 'POST', url: '/admin/api/webhooks', ...asStaff({ url: 'http://127.0.0.1/', eventTypes: ['subscription.nope'] }) })
  t.equal(bad.statusCode, 400)
  const receiver = await startReceiver(t)
  const other = await startReceiver(t)
  await addEndpoint(ta.app, receiver.url, { list: 'main', eventTypes: ['subscription.confirmed'] })
  const { endpoint } = await addEndpoint(ta.app, other.url, { list: 'another-list' })
  await signUpAndConfirm(ta, 'filter@example.org')
  const [got] = await receiver.waitForDelivered(1)
  t.equal(got.json.type, 'subscription.confirmed', 'only the types asked for')
  t.equal(other.requests.length, 0, 'an endpoint for another list gets none of this list\'s events')
  t.equal((await ta.app.inject({ method: 'DELETE', url: `/admin/api/webhooks/${endpoint.id}`, headers: staff })).statusCode, 204)
  t.equal((await ta.app.inject({ url: `/admin/api/webhooks/${endpoint.id}`, headers: staff })).statusCode, 404)
})

t.test('a rotated secret: the new and the old one both verify during the overlap, only the new one after it', async (t) => {
  const ta = await buildTestApp(t, WEBHOOK_ENV)
  const receiver = await startReceiver(t)
  const { endpoint, secret: oldSecret } = await addEndpoint(ta.app, receiver.url)
  const rotated = await ta.app.inject({ method: 'POST', url: `/admin/api/webhooks/${endpoint.id}/rotate-secret`, ...asStaff({ overlapHours: 1 }) })
  t.equal(rotated.statusCode, 200)
  const { secret: newSecret, endpoint: after } = rotated.json() as { secret: string, endpoint: { previousSecretExpiresAt: string } }
  t.not(newSecret, oldSecret)
  t.ok(after.previousSecretExpiresAt, 'the overlap is shown')
  await signUp(ta.app, 'rotate1@example.org')
  const [during] = await receiver.waitForDelivered(1)
  t.equal(during.signature.split(' ').length, 2, 'two signatures in one header')
  t.doesNotThrow(() => verify(newSecret, during), 'the new secret verifies')
  t.doesNotThrow(() => verify(oldSecret, during), 'the old one still does')

  // Rotated again with no overlap: only the newest secret signs.
  const again = await ta.app.inject({ method: 'POST', url: `/admin/api/webhooks/${endpoint.id}/rotate-secret`, ...asStaff({ overlapHours: 0 }) })
  const newest = (again.json() as { secret: string }).secret
  await signUp(ta.app, 'rotate2@example.org')
  const [, later] = await receiver.waitForDelivered(2)
  t.equal(later.signature.split(' ').length, 1)
  t.doesNotThrow(() => verify(newest, later))
  t.throws(() => verify(newSecret, later), 'once the overlap is over the previous secret no longer verifies')
  t.equal((await ta.app.inject({ method: 'POST', url: '/admin/api/webhooks/nope/rotate-secret', ...asStaff({}) })).statusCode, 404)
})
