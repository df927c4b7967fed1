// Webhook drills on real server processes: the receiver down for 30 s, and the app killed with SIGKILL while
// deliveries are on the wire. Every event arrives, each subscriber's in order (pending, confirmed, unsubscribed),
// with one webhook-id per event; a repeat is only ever the same event again (at least once). The in-process
// cases (500 then 200, a slow target, 410, dead and retried) are in test/webhooks/delivery.test.ts.
import t from 'tap'
import type { Test } from 'tap'
import { ADMIN_TOKEN } from '../test/helpers/app.js'
import { linkIn, pathOf } from '../test/helpers/mail.js'
import { startReceiver, type Receiver } from '../test/helpers/receiver.js'
import { startSmtp, waitForMailTo, type SmtpSink } from '../test/helpers/smtp.js'
import { waitUntil } from '../test/helpers/wait.js'
import { drillDatabase, pool, signup, sleep, startServer } from './harness.js'

const TYPES = ['subscription.pending', 'subscription.confirmed', 'subscription.unsubscribed']

async function addEndpoint (base: string, url: string): Promise<string> {
  const res = await fetch(`${base}/admin/api/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url, eventTypes: [...TYPES, 'subscriber.erased'] })
  })
  if (res.status !== 201) throw new Error(`adding the endpoint answered ${res.status}: ${await res.text()}`)
  return ((await res.json()) as { endpoint: { id: string } }).endpoint.id
}

const post = async (base: string, url: string) => {
  const res = await fetch(`${base}${pathOf(url)}`, { method: 'POST', headers: { accept: 'application/json' } })
  await res.arrayBuffer()
  if (res.status !== 200) throw new Error(`${pathOf(url).split('/')[1]} answered ${res.status}`)
}

/** Sign up, confirm from the mail, unsubscribe from the welcome mail: three events for one subscriber. */
async function journey (base: string, sink: SmtpSink, email: string): Promise<void> {
  if (await signup(base, email) !== 202) throw new Error(`sign-up of ${email} failed`)
  await post(base, linkIn(await waitForMailTo(sink, email, 1), '/confirm/'))
  await post(base, linkIn(await waitForMailTo(sink, email, 2), '/unsubscribe/'))
}

/** The verdict: all events of these subscribers arrived, in order per subscriber, one webhook-id per event. */
function checkArrivals (t: Test, receiver: Receiver, emails: string[]): void {
  const bySubscriber = new Map<string, Array<{ id: string, type: string }>>()
  for (const r of receiver.delivered()) {
    const email = r.json.data.subscriber.email as string
    bySubscriber.set(email, [...(bySubscriber.get(email) ?? []), { id: r.id, type: r.json.type }])
  }
  const wrong: string[] = []
  let repeats = 0
  for (const email of emails) {
    const got = bySubscriber.get(email) ?? []
    // A repeat (at least once) is the same event again, right after itself: drop those, then compare.
    const distinct = got.filter((g, i) => i === 0 || g.id !== got[i - 1].id)
    repeats += got.length - distinct.length
    const ids = new Map(distinct.map((d) => [d.id, d.type]))
    if (distinct.map((d) => d.type).join() !== TYPES.join() || ids.size !== 3) wrong.push(`${email}: ${distinct.map((d) => d.type).join(', ')}`)
  }
  t.same(wrong, [], `all ${emails.length * 3} events arrived, in order per subscriber, one webhook-id each`)
  t.comment(`${receiver.delivered().length} deliveries answered 2xx for ${emails.length * 3} events; repeats of the same webhook-id: ${repeats}`)
}

t.test('the receiver down for 30 s: every event arrives once it is back, in order', async (t) => {
  const db = await drillDatabase(t)
  const sink = await startSmtp(t)
  const receiver = await startReceiver(t)
  const env = { DATABASE_URL: db.url, SMTP_URL: sink.url, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_BASE_MS: '500', WEBHOOK_RETRY_MAX_MS: '4000' }
  const server = await startServer(t, 'webhooks-down', env)
  await addEndpoint(server.url, receiver.url)
  await receiver.stop()

  const emails = Array.from({ length: 12 }, (_, i) => `down-${i}@example.org`)
  await pool(emails, 4, (email) => journey(server.url, sink, email))
  t.pass('sign-ups, confirmations and unsubscribes all went through with the receiver down')
  await waitUntil(async () => (await db.sql`SELECT 1 FROM webhook_deliveries WHERE attempts >= 2 LIMIT 1`).length > 0, 20_000,
    () => 'a delivery to be tried and retried')
  await sleep(30_000) // the outage itself: its length is the subject of this drill
  await receiver.start()
  await receiver.waitForDelivered(emails.length * 3, 60_000)
  await waitUntil(async () => (await db.sql`SELECT 1 FROM webhook_deliveries WHERE status <> 'delivered'`).length === 0, 20_000)
  checkArrivals(t, receiver, emails)
  server.proc.kill('SIGTERM')
  t.equal((await server.exited).code, 0)
})

t.test('kill -9 mid-delivery: a restart delivers everything, the claimed ones again with the same webhook-id', async (t) => {
  const db = await drillDatabase(t)
  const sink = await startSmtp(t)
  const receiver = await startReceiver(t)
  const env = {
    DATABASE_URL: db.url,
    SMTP_URL: sink.url,
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_RETRY_BASE_MS: '500',
    WEBHOOK_RETRY_MAX_MS: '2000',
    WEBHOOK_TIMEOUT_MS: '2000',
    WEBHOOK_LEASE_SECONDS: '4'
  }
  const first = await startServer(t, 'webhooks-first', env)
  await addEndpoint(first.url, receiver.url)
  // Every answer is held, so the kill lands with deliveries on the wire and claimed under a lease.
  receiver.hold()
  const emails = Array.from({ length: 12 }, (_, i) => `kill-${i}@example.org`)
  await pool(emails, 4, (email) => journey(first.url, sink, email))
  await waitUntil(() => receiver.arrived >= 5, 20_000, () => 'deliveries to be on the wire')
  const [{ n: sending }] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'sending'`
  first.proc.kill('SIGKILL')
  t.equal((await first.exited).signal, 'SIGKILL')
  t.ok(sending > 0, `the dead process left ${sending} claimed deliveries behind`)
  // Some held answers now go out to a process that is gone; they count as not answered.
  receiver.release()

  const second = await startServer(t, 'webhooks-second', env)
  await waitUntil(async () => (await db.sql`SELECT 1 FROM webhook_deliveries WHERE status <> 'delivered'`).length === 0, 90_000,
    () => `only ${receiver.delivered().length} deliveries answered`)
  const [{ n: reclaimed }] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM webhook_deliveries WHERE attempts >= 2`
  t.ok(reclaimed > 0, 'the deliveries the dead process held were claimed again after their lease')
  checkArrivals(t, receiver, emails)
  second.proc.kill('SIGTERM')
  t.equal((await second.exited).code, 0)
})
