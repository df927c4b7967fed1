// TOKEN_SECRET never reaches PostgreSQL (a server logging its statements would hand it out), it can be rotated with
// TOKEN_SECRET_PREVIOUS without breaking anything already handed out, and the upgrade keeps every unsubscribe link
// already mailed working.
import { createHmac } from 'node:crypto'
import net, { type AddressInfo } from 'node:net'
import t from 'tap'
import postgres from 'postgres'
import { sql } from 'drizzle-orm'
import { openDatabase } from '../../src/db/client.js'
import { buildTestApp, form, json, staff, TOKEN_SECRET } from '../helpers/app.js'
import { databaseAt, testDatabase } from '../helpers/database.js'
import { csvRecords, exportRowOf, signUp, signUpAndConfirm } from '../helpers/flow.js'
import { linkIn, pathOf } from '../helpers/mail.js'
import { waitForMailTo } from '../helpers/smtp.js'

const PG = process.env.DATABASE_URL ? false : 'needs PostgreSQL'
const OTHER_SECRET = 'the-next-token-secret-0123456789abcdefghij'

/** A TCP proxy in front of PostgreSQL that keeps every byte the app sends. */
async function recordingProxy (t: Tap, target: string) {
  const upstream = new URL(target)
  const sent: Buffer[] = []
  const server = net.createServer((client) => {
    const db = net.connect(Number(upstream.port || 5432), upstream.hostname)
    client.on('data', (chunk) => { sent.push(chunk); db.write(chunk) })
    db.pipe(client)
    for (const s of [client, db]) s.on('error', () => {})
    client.once('close', () => db.destroy())
    db.once('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const via = new URL(target)
  via.port = String((server.address() as AddressInfo).port)
  return { url: via.toString(), sent: () => Buffer.concat(sent) }
}
interface Tap { teardown(fn: () => unknown): void }

/** The key material the old design bound into statements: the HMAC pads of a secret, hex. */
function pads (secret: string): string[] {
  const block = Buffer.alloc(64)
  Buffer.from(secret).copy(block)
  return [0x36, 0x5c].map((x) => Buffer.from(block.map((b) => b ^ x)).toString('hex'))
}

const stampOf = (body: string) => /name="form_started" value="([^"]+)"/.exec(body)![1]

t.test('no secret or key material reaches PostgreSQL on any path: sign-up, confirm, mails, unsubscribe, export, erasure', { skip: PG }, async (t) => {
  const { url } = await testDatabase(t)
  const proxy = await recordingProxy(t, url!)
  const database = await openDatabase({ databaseUrl: proxy.url, poolSize: 3 })
  t.teardown(() => database.close())
  const ta = await buildTestApp(t, { TOKEN_SECRET_PREVIOUS: OTHER_SECRET }, { database })
  const { app, smtp, clock } = ta
  const stamp = stampOf((await app.inject({ url: '/' })).body)
  clock.advance(10_000)
  await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'ann@example.org', form_started: stamp }) })
  const confirmation = await waitForMailTo(smtp, 'ann@example.org')
  await app.inject({ method: 'POST', url: pathOf(linkIn(confirmation, '/confirm/')), headers: { accept: 'application/json' } })
  const welcome = await waitForMailTo(smtp, 'ann@example.org', 2)
  const unsubscribe = pathOf(linkIn(welcome, '/unsubscribe/'))
  await app.inject({ url: unsubscribe })
  await app.inject({ method: 'POST', url: unsubscribe, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  await app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })
  await signUpAndConfirm(ta, 'bo@example.org')
  const boLink = pathOf(linkIn((await waitForMailTo(smtp, 'bo@example.org', 2)), '/unsubscribe/'))
  await app.inject({ method: 'POST', url: boLink, payload: 'erase=1', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' } })
  await app.inject({ method: 'DELETE', url: '/admin/subscribers/cy%40example.org', headers: staff })
  await app.inject({ url: '/admin/subscribers/ann%40example.org', headers: staff })

  const sent = proxy.sent()
  t.ok(sent.length > 10_000, 'the journey talked to the database')
  for (const secret of [TOKEN_SECRET, OTHER_SECRET]) {
    t.equal(sent.indexOf(secret), -1, 'the secret itself is never sent')
    for (const pad of pads(secret)) t.equal(sent.indexOf(pad), -1, 'nor its HMAC pads')
    t.equal(sent.indexOf(Buffer.from(secret).toString('base64')), -1, 'nor its base64')
  }
})

t.test('after TOKEN_SECRET changes, TOKEN_SECRET_PREVIOUS keeps old form stamps and suppressions working; unsubscribe links never depended on it', async (t) => {
  const { database } = await testDatabase(t)
  const before = await buildTestApp(t, {}, { database })
  const oldStamp = stampOf((await before.app.inject({ url: '/' })).body)
  await signUpAndConfirm(before, 'early@example.org')
  const oldLink = pathOf(linkIn(await waitForMailTo(before.smtp, 'early@example.org', 2), '/unsubscribe/'))
  await before.app.inject({ method: 'DELETE', url: '/admin/subscribers/erased%40example.org', headers: staff })
  await before.app.close()

  const rotating = await buildTestApp(t, { TOKEN_SECRET: OTHER_SECRET, TOKEN_SECRET_PREVIOUS: TOKEN_SECRET }, { database })
  rotating.clock.advance(10_000)
  const posted = await rotating.app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'tab-left-open@example.org', form_started: oldStamp }) })
  t.equal(posted.statusCode, 303)
  t.ok(await exportRowOf(rotating.app, 'tab-left-open@example.org'), 'a form served before the rotation still signs up')
  const access = await rotating.app.inject({ url: '/admin/subscribers/erased%40example.org', headers: staff })
  t.equal(access.json().suppressed, true, 'an erasure from before the rotation is still recognised')
  t.equal((await rotating.app.inject({ url: oldLink })).statusCode, 200, 'a link mailed before the rotation works')
  await rotating.app.close()

  const after = await buildTestApp(t, { TOKEN_SECRET: OTHER_SECRET }, { database })
  after.clock.advance(10_000)
  await after.app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'stale-form@example.org', form_started: oldStamp }) })
  t.notOk(await exportRowOf(after.app, 'stale-form@example.org'), 'once the old secret is gone, a stamp it signed counts as forged')
  const unsubscribed = await after.app.inject({ method: 'POST', url: oldLink, headers: { accept: 'application/json' } })
  t.same(unsubscribed.json(), { status: 'unsubscribed' }, 'the old link still unsubscribes')
})

/** A database migrated only up to (and including) the migration named `lastTag`, as an older release left it. */
t.test('upgrading keeps every unsubscribe link already mailed working, and a pending address keeps its cooldown', { skip: PG }, async (t) => {
  const url = await databaseAt(t, '0003_drop_subscriber_consent_text')
  const old = postgres(url, { max: 1, onnotice: () => {} })
  const [member] = await old`
    INSERT INTO subscribers (email, email_normalized, status, confirmed_at) VALUES ('Old.Member@Example.org', 'old.member@example.org', 'confirmed', now())
    RETURNING public_id`
  await old`
    INSERT INTO subscribers (email, email_normalized, status, confirm_sent_at, confirm_sends_day, confirm_sends_count)
    VALUES ('waiting+list@example.org', 'waiting+list@example.org', 'pending', now(), current_date, 1)`
  await old.end()
  // The link the old release put in its mails: the public id signed with TOKEN_SECRET.
  const mailed = `/unsubscribe/${member.public_id}.${createHmac('sha256', TOKEN_SECRET).update(`unsubscribe:${member.public_id}`).digest('base64url')}`

  const database = await openDatabase({ databaseUrl: url, poolSize: 3 })
  t.teardown(() => database.close())
  const { migrate } = await import('../../src/db/client.js')
  await migrate({ databaseUrl: url })
  const { app, smtp } = await buildTestApp(t, {}, { database })
  t.equal((await app.inject({ url: mailed })).statusCode, 200, 'the page of a link mailed before the upgrade')
  const exported = csvRecords((await app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })).body)
  t.equal(exported.find((r) => r.email === 'Old.Member@Example.org')?.unsubscribe_url, `https://news.example.org${mailed}`, 'the export prints the same link')
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'waiting+again@example.org' }) })
  await signUp(app, 'fresh@example.org')
  await waitForMailTo(smtp, 'fresh@example.org')
  t.equal(smtp.mails.filter((m) => m.envelope.to[0].startsWith('waiting')).length, 0, 'the mailbox mailed just before the upgrade is still in its cooldown')
  const res = await app.inject({ method: 'POST', url: mailed, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(res.statusCode, 200)
  t.equal((await exportRowOf(app, 'Old.Member@Example.org'))?.status, 'unsubscribed', 'and it unsubscribes')
  const [held] = await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM subscribers WHERE unsubscribe_secret IS NULL`)
  t.equal(Number(held.n), 0, 'every row has its secret')
})
