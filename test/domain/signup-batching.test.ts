// Sign-ups that arrive together are written to the database together (src/domain/subscribers.ts, SignupWriter):
// each still gets its own row, confirmation mail, working link and consent record; a batch that fails stores
// nothing and tells every sign-up in it to try again; and a pooled connection the database dropped is retried.
import t, { type Test } from 'tap'
import postgres from 'postgres'
import { sql } from 'drizzle-orm'
import { openDatabase } from '../../src/db/client.js'
import { buildTestApp, form, json } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { waitForMailTo } from '../helpers/smtp.js'
import { linkIn, pathOf } from '../helpers/mail.js'
import { exportRowOf, exportRows, outboxIdle } from '../helpers/flow.js'
import { waitUntil } from '../helpers/wait.js'

/** Another session locks the subscribers table against writes until release(). */
async function holdTable (t: Pick<Test, 'teardown'>, url: string) {
  // Two connections: the session holding the lock, and one to watch who waits for it (outside that session's
  // transaction, which would see pg_stat_activity as it was when the transaction began).
  const blocker = postgres(url, { max: 2, onnotice: () => {} })
  t.teardown(() => blocker.end())
  const session = await blocker.reserve()
  await session`BEGIN`
  await session`LOCK TABLE subscribers IN EXCLUSIVE MODE`
  return {
    /** Whether one of the app's statements is waiting for the lock. */
    async waitedOn () {
      const [{ n }] = await blocker<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'joinlist' AND wait_event_type = 'Lock'`
      return n > 0
    },
    async release () { await session`ROLLBACK`; session.release() }
  }
}

const postgresOnly = process.env.DATABASE_URL ? {} : { skip: 'needs DATABASE_URL (the embedded database has no other sessions)' }

t.test('sign-ups arriving while the database is busy each get their own row, mail, working link and consent record', async (t) => {
  const { database, url } = await testDatabase(t)
  const { app, smtp } = await buildTestApp(t, { RATE_LIMIT_SUBSCRIBE_MAX: '1000', RATE_LIMIT_TOKEN_MAX: '1000' }, { database })
  const people = Array.from({ length: 60 }, (_, i) => ({ email: `Burst.${i}@Example.org`, name: `Person ${i}`, source: `src-${i}` }))
  // On PostgreSQL another session holds the table for a moment, as a busy database would: the sign-ups that
  // arrive meanwhile queue up and are written together.
  const busy = url ? await holdTable(t, url) : undefined
  const pending = Promise.all(people.map((p, i) => app.inject({
    method: 'POST', url: '/subscribe', ...(i % 2 ? json(p) : form(p))
  })))
  if (busy) {
    // Once a sign-up batch waits on the lock, the sign-ups arriving behind it queue up: then the database is free.
    await waitUntil(() => busy.waitedOn(), 10_000, () => 'a sign-up batch to wait for the locked table')
    await busy.release()
  }
  const answers = await pending
  t.same(answers.map((a) => a.statusCode), people.map((_, i) => i % 2 ? 202 : 303), 'every sign-up answered')

  if (busy) {
    const [{ batches }] = await database.rows<{ batches: number }>(sql`SELECT count(DISTINCT created_at)::int AS batches FROM outbox`)
    t.ok(batches < people.length / 2, `written in ${batches} statements, not one per sign-up`)
  }

  for (const [i, p] of people.entries()) {
    const mail = await waitForMailTo(smtp, p.email)
    const res = await app.inject({ method: 'POST', url: pathOf(linkIn(mail, '/confirm/')), headers: { accept: 'application/json' } })
    t.equal(res.statusCode, 200, `${p.email}'s own link confirms`)
    if (i > 3) continue
    const welcome = await waitForMailTo(smtp, p.email, 2)
    t.match(welcome.parsed.text, p.name, 'the welcome mail greets the person by the name they gave')
  }
  await outboxIdle(database)
  t.equal(smtp.mails.filter((m) => m.parsed.subject?.match(/confirm/i)).length, people.length, 'one confirmation mail each')

  const rows = await exportRows(app)
  t.equal(rows.length, people.length)
  for (const p of people) {
    const row = rows.find((r) => r.email === p.email)
    t.match(row, { status: 'confirmed', name: p.name, source: p.source }, `${p.email} is stored as typed, with its own name and source`)
  }
  const events = await database.rows<{ email: string, type: string, method: string, source: string }>(sql`
    SELECT s.email, e.type, e.method, e.details->>'source' AS source
    FROM consent_events e JOIN subscribers s ON s.id = e.subscriber_id WHERE e.type = 'signup'`)
  t.equal(events.length, people.length, 'one sign-up record each in the consent ledger')
  for (const [i, p] of people.entries()) {
    t.match(events.filter((e) => e.email === p.email), [{ method: i % 2 ? 'api' : 'form', source: p.source }])
  }
})

t.test('a batch the database cannot write stores nothing and every sign-up in it gets 503, then succeeds on retry', postgresOnly, async (t) => {
  const { url } = await testDatabase(t)
  const database = await openDatabase({ databaseUrl: url, poolSize: 2, queryTimeoutMs: 500 })
  t.teardown(() => database.close())
  const { app, smtp } = await buildTestApp(t, { RATE_LIMIT_SUBSCRIBE_MAX: '1000' }, { database })

  // Another session holds the table, so the batch waits past the query deadline and is cancelled.
  const busy = await holdTable(t, url!)
  const emails = Array.from({ length: 8 }, (_, i) => `blocked-${i}@example.org`)
  const failed = await Promise.all(emails.map((email) => app.inject({ method: 'POST', url: '/subscribe', ...json({ email }) })))
  await busy.release()
  t.same(failed.map((r) => r.statusCode), emails.map(() => 503), 'every sign-up in the batch is told to try again')
  t.equal(failed[0].json().error, 'unavailable')
  const [{ n }] = await database.rows<{ n: number }>(sql`SELECT (SELECT count(*) FROM subscribers) + (SELECT count(*) FROM outbox) + (SELECT count(*) FROM consent_events) AS n`)
  t.equal(Number(n), 0, 'nothing was stored: no subscriber, no mail queued, no consent record')

  const retried = await Promise.all(emails.map((email) => app.inject({ method: 'POST', url: '/subscribe', ...json({ email }) })))
  t.same(retried.map((r) => r.statusCode), emails.map(() => 202))
  for (const email of emails) await waitForMailTo(smtp, email)
  await outboxIdle(database)
  t.equal(smtp.mails.length, emails.length, 'one mail each after the retry')
})

t.test('a pooled connection the database dropped is tried again: the next sign-up succeeds', postgresOnly, async (t) => {
  const { url } = await testDatabase(t)
  const database = await openDatabase({ databaseUrl: url, poolSize: 2 })
  t.teardown(() => database.close())
  const { app, smtp } = await buildTestApp(t, { WORKER: 'false' }, { database })
  t.equal((await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'before@example.org' }) })).statusCode, 202)
  // Terminate the app's idle connections from another session (as a database restart or an idle-connection
  // killer would).
  const admin = postgres(url!, { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end())
  const [{ killed }] = await admin<{ killed: number }[]>`
    SELECT count(pg_terminate_backend(pid))::int AS killed FROM pg_stat_activity
    WHERE datname = current_database() AND application_name = 'joinlist' AND pid <> pg_backend_pid()`
  t.ok(killed > 0, `terminated ${killed} pooled connections`)
  const after = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'after@example.org' }) })
  t.equal(after.statusCode, 202, 'no 503 for a connection that was already gone')
  const [{ n }] = await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM outbox`)
  t.equal(n, 2, 'both sign-ups queued their mail')
  t.equal(smtp.mails.length, 0)
})

t.test('a name that is not valid Unicode gets 400 and the sign-ups arriving with it are stored', async (t) => {
  const { app, smtp, database } = await buildTestApp(t, { RATE_LIMIT_SUBSCRIBE_MAX: '1000' })
  // A lone UTF-16 surrogate: JSON can carry it, PostgreSQL cannot store it as text.
  const broken = app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'broken@example.org', name: 'Ann \ud800' }) })
  const others = ['beside-1@example.org', 'beside-2@example.org', 'beside-3@example.org']
    .map((email) => app.inject({ method: 'POST', url: '/subscribe', ...json({ email, name: 'Zoë 🙂' }) }))
  const res = await broken
  t.equal(res.statusCode, 400)
  t.match(res.json(), { error: 'invalid_field', field: 'name', message: /valid Unicode/ })
  t.same((await Promise.all(others)).map((r) => r.statusCode), [202, 202, 202])
  for (const email of ['beside-1@example.org', 'beside-2@example.org', 'beside-3@example.org']) {
    await waitForMailTo(smtp, email)
    t.equal((await exportRowOf(app, email))?.name, 'Zoë 🙂', 'a real non-ASCII name is stored intact')
  }
  const [{ n }] = await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM subscribers`)
  t.equal(n, 3, 'only the broken sign-up was refused')
})
