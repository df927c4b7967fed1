// The changes feed, as a tool that pulls sees it: the same events as the webhooks, in commit order, paged with a
// cursor that never skips an event whose transaction committed after a later one (two real concurrent
// transactions on PostgreSQL).
import t from 'tap'
import postgres from 'postgres'
import { sql } from 'drizzle-orm'
import { purgeWebhookLog } from '../../src/webhooks/endpoints.js'
import { buildTestApp, staff, type TestApp } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { signUp, signUpAndConfirm } from '../helpers/flow.js'

interface Feed { changes: Array<{ id: string, cursor: string, type: string, timestamp: string, data: Record<string, any> }>, cursor: string }

async function feed (app: TestApp['app'], after: string, limit = 100): Promise<Feed> {
  const res = await app.inject({ url: `/admin/api/changes?after=${after}&limit=${limit}`, headers: staff })
  if (res.statusCode !== 200) throw new Error(`the feed answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

t.test('the feed lists every event in order and pages with its cursor', async (t) => {
  const ta = await buildTestApp(t, { WORKER: 'false' })
  t.same(await feed(ta.app, '0'), { changes: [], cursor: '0' }, 'nothing yet: the cursor stays where it was')
  await signUp(ta.app, 'one@example.org')
  await signUp(ta.app, 'two@example.org')
  const first = await feed(ta.app, '0', 1)
  t.equal(first.changes.length, 1)
  t.match(first.changes[0], { id: /^evt_/, type: 'subscription.pending', data: { subscriber: { email: 'one@example.org' } } })
  const second = await feed(ta.app, first.cursor, 10)
  t.same(second.changes.map((c) => c.data.subscriber.email), ['two@example.org'])
  t.same((await feed(ta.app, second.cursor)).changes, [], 'nothing after the last one')
  t.equal((await ta.app.inject({ url: '/admin/api/changes?after=-1', headers: staff })).statusCode, 400, 'a cursor is what the feed gave')
})

t.test('a transaction that committed late is not skipped by a cursor taken in between', async (t) => {
  const { database, url } = await testDatabase(t)
  if (!url) { t.pass('embedded database: one connection, no concurrent transactions to test'); return }
  const ta = await buildTestApp(t, { WORKER: 'false' }, { database })
  const client = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => client.end({ timeout: 2 }))

  // Transaction 1 writes an event first, then stays open.
  const late = await client.reserve()
  await late`BEGIN`
  await late`INSERT INTO webhook_events (type, order_key, list_slug, data)
    VALUES ('list.created', 'list:late', 'late', '{"list":{"slug":"late","name":"Late list"}}')`
  // Transaction 2 (a sign-up through the app) writes its event after it, and commits first.
  await signUp(ta.app, 'early@example.org')
  const before = await feed(ta.app, '0')
  t.same(before.changes.map((c) => c.type), ['subscription.pending'], 'only what has committed')

  await late`COMMIT`
  late.release()
  const after = await feed(ta.app, before.cursor)
  t.same(after.changes.map((c) => c.type), ['list.created'], 'the late transaction\'s event comes after the cursor')
  const [ids] = await database.rows<{ late_first: boolean }>(sql`
    SELECT (SELECT id FROM webhook_events WHERE type = 'list.created') < (SELECT id FROM webhook_events WHERE type = 'subscription.pending') AS late_first`)
  t.ok(ids.late_first, 'its id is the smaller one: a cursor on ids would have skipped it')
})

t.test('an erased subscriber leaves the feed with one event and no address', async (t) => {
  const ta = await buildTestApp(t)
  await signUpAndConfirm(ta, 'erase.me@example.org')
  t.equal((await feed(ta.app, '0')).changes.length, 2)
  t.equal((await ta.app.inject({ method: 'DELETE', url: '/admin/subscribers/erase.me@example.org', headers: staff })).statusCode, 200)
  const { changes } = await feed(ta.app, '0')
  t.same(changes.map((c) => c.type), ['subscriber.erased'])
  t.notOk(JSON.stringify(changes).includes('erase.me'), 'the address is nowhere in the feed')
})

t.test('list events reach the feed; the log is purged after WEBHOOK_LOG_DAYS', async (t) => {
  const ta = await buildTestApp(t, { WORKER: 'false' })
  await ta.app.lists.create({ slug: 'spring', name: 'Spring news' })
  const { changes } = await feed(ta.app, '0')
  t.match(changes, [{ type: 'list.created', data: { list: { slug: 'spring', name: 'Spring news' } } }])
  t.same(await purgeWebhookLog(ta.database, ta.clock.now(), 30), { deliveries: 0, events: 0 }, 'nothing old yet')
  ta.clock.advance(31 * 86_400_000)
  t.same(await purgeWebhookLog(ta.database, ta.clock.now(), 30), { deliveries: 0, events: 1 }, 'an event older than the log is gone')
  t.same((await feed(ta.app, '0')).changes, [])
})

t.test('each list has its own events: a two-list sign-up, leaving one list, and archiving a list', async (t) => {
  const ta = await buildTestApp(t)
  await ta.app.lists.create({ slug: 'events', name: 'Event invitations' })
  await ta.app.inject({ method: 'POST', url: '/subscribe', payload: { email: 'two@example.org', lists: ['main', 'events'] }, headers: { accept: 'application/json' } })
  await signUpAndConfirm(ta, 'one@example.org', { lists: 'events' } as unknown as Record<string, string>)
  const [row] = await ta.database.rows<{ public_id: string, unsubscribe_secret: string }>(sql`
    SELECT public_id, unsubscribe_secret FROM subscribers WHERE email = 'one@example.org'`)
  await ta.app.inject({ method: 'POST', url: `/unsubscribe/${row.public_id}.${row.unsubscribe_secret}?list=events`, headers: { accept: 'application/json' } })
  await ta.app.inject({ method: 'PATCH', url: '/admin/api/lists/events', headers: staff, payload: { archived: true } })
  const { changes } = await feed(ta.app, '0')
  t.same(changes.map((c) => `${c.type} ${c.data.subscriber?.email ?? ''} ${c.data.list?.slug ?? ''}`.trim()), [
    'list.created  events',
    'subscription.pending two@example.org main',
    'subscription.pending two@example.org events',
    'subscription.pending one@example.org events',
    'subscription.confirmed one@example.org events',
    'subscription.unsubscribed one@example.org events',
    'list.archived  events'
  ])
  t.match(changes[1].data, { list: { slug: 'main', name: 'Policy Notes' }, consent: { consentTextVersion: 1 } })
  t.match(changes[4].data, { consent: { confirmedAt: /Z$/ } })
  t.match(changes[5].data, { unsubscribe: { method: 'link' } })
})

t.test('the sending tool pulls the feed with a viewer API key, and cannot manage webhooks with it', async (t) => {
  const ta = await buildTestApp(t, { WORKER: 'false' })
  const created = await ta.app.inject({ method: 'POST', url: '/admin/api/keys', payload: { name: 'listmonk sync', role: 'viewer' }, headers: staff })
  t.equal(created.statusCode, 201)
  const tool = { authorization: `Bearer ${created.json().key}`, accept: 'application/json' }
  await signUp(ta.app, 'pulled@example.org')
  const res = await ta.app.inject({ url: '/admin/api/changes?after=0', headers: tool })
  t.equal(res.statusCode, 200)
  t.match(res.json().changes, [{ type: 'subscription.pending', data: { subscriber: { email: 'pulled@example.org' } } }])
  const add = await ta.app.inject({ method: 'POST', url: '/admin/api/webhooks', payload: { url: 'https://hooks.example.org/x', eventTypes: ['subscription.confirmed'] }, headers: tool })
  t.equal(add.statusCode, 403, 'webhooks are managed by owners')
})
