// When PostgreSQL goes away: readiness and requests answer 503 fast (never hang), nothing leaks into logs, and the
// app recovers by itself. A TCP proxy in the test stands between the app and PostgreSQL and can be cut.
import t from 'tap'
import { DrizzleQueryError } from 'drizzle-orm/errors'
import { sql } from 'drizzle-orm'
import { migrate, openDatabase } from '../../src/db/client.js'
import { driverError, isDatabaseUnavailable } from '../../src/db/errors.js'
import { buildTestApp, form, json, staff } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { tcpProxy } from '../helpers/proxy.js'
import { waitUntil } from '../helpers/wait.js'

t.test('a wrapped driver error is recognised as unavailable and unwrapped for logging', async (t) => {
  const lost = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })
  const wrapped = new DrizzleQueryError('insert …', ['someone@example.org', 'raw-token'], lost)
  t.equal(driverError(wrapped), lost, 'the log gets the driver error, not the query parameters')
  t.ok(isDatabaseUnavailable(wrapped))
  t.ok(isDatabaseUnavailable(Object.assign(new Error('refused'), { errno: 'ECONNREFUSED' })))
  t.ok(isDatabaseUnavailable(Object.assign(new Error('sorry, too many clients already'), { code: '53300' })), 'max_connections reached')
  t.notOk(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' })), 'a bad query is not an outage')
  t.notOk(isDatabaseUnavailable(null))
  t.equal(driverError(lost), lost)
})

const postgresOnly = process.env.DATABASE_URL ? {} : { skip: 'needs DATABASE_URL (the embedded database cannot go away)' }

t.test('while PostgreSQL is gone, /readyz and sign-ups answer 503; once it is back, the app works again', postgresOnly, async (t) => {
  const { url } = await testDatabase(t)
  const db = await tcpProxy(t, url!)
  const database = await openDatabase({ databaseUrl: db.url, poolSize: 2, queryTimeoutMs: 2000 })
  t.teardown(() => database.close())
  const { app, smtp } = await buildTestApp(t, { WORKER_POLL_MS: '100' }, { database })

  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
  await db.cut()
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 503)
  const signup = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'gap@example.org' }) })
  t.equal(signup.statusCode, 503)
  t.equal(signup.json().error, 'unavailable')
  const page = await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'gap@example.org' }) })
  t.equal(page.statusCode, 503)
  t.match(page.body, /Service unavailable/)
  const exported = await app.inject({ url: '/admin/subscribers.csv', headers: { ...staff, accept: 'application/json' } })
  t.equal(exported.statusCode, 503, 'an export cannot open its connection either: 503, not 500')

  await db.restore()
  await waitUntil(async () => (await app.inject({ url: '/readyz' })).statusCode === 200, 5000, () => '/readyz to answer 200 again')
  t.pass('ready again without a restart')
  t.equal((await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'back@example.org' }) })).statusCode, 202)
  const [mail] = await smtp.waitFor(1)
  t.same(mail.envelope.to, ['back@example.org'])
})

t.test('a query to a database that never answers fails after the deadline instead of hanging', postgresOnly, async (t) => {
  const { url } = await testDatabase(t)
  const silent = await tcpProxy(t, url!, { blackhole: true })
  const database = await openDatabase({ databaseUrl: silent.url, poolSize: 1, queryTimeoutMs: 300 })
  t.teardown(() => database.close().catch(() => {}))
  const err = await database.rows(sql`select 1`).then(() => undefined, (e: unknown) => e)
  t.match(err, { code: 'QUERY_TIMEOUT' })
  t.ok(isDatabaseUnavailable(err), 'and counts as the database being unavailable (503)')
})

t.test('a statement that runs past the deadline is ended by PostgreSQL itself, so nothing it wrote is kept', postgresOnly, async (t) => {
  const { url } = await testDatabase(t)
  const database = await openDatabase({ databaseUrl: url, poolSize: 1, queryTimeoutMs: 300 })
  t.teardown(() => database.close())
  // pg_sleep: a statement that outlasts the 300 ms deadline is the situation under test.
  const err = await database.rows(sql`
    WITH added AS (
      INSERT INTO subscribers (email, email_normalized, mailbox) VALUES ('slow@example.org', 'slow@example.org', 'slow@example.org') RETURNING id
    )
    SELECT pg_sleep(1) FROM added`).then(() => undefined, (e: unknown) => e)
  t.match(driverError(err), { code: '57014' }, 'cancelled by the server (statement_timeout), not only given up on here')
  t.ok(isDatabaseUnavailable(err), 'and counts as the database being unavailable (503)')
  const [{ n }] = await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM subscribers`)
  t.equal(n, 0, 'the insert was rolled back')
})

t.test('an export starts on a pool with no open connection, may run past the query deadline, and leaves the deadline in place', postgresOnly, async (t) => {
  const { url } = await testDatabase(t)
  const database = await openDatabase({ databaseUrl: url, poolSize: 1, queryTimeoutMs: 300 })
  t.teardown(() => database.close())
  // pg_sleep: an export that outlasts the 300 ms query deadline is the situation under test.
  const copy = await database.copyOut('COPY (SELECT g, pg_sleep(0.2) FROM generate_series(1, 3) g) TO STDOUT WITH (FORMAT csv)', {})
  let text = ''
  for await (const chunk of copy.stream) text += String(chunk)
  t.equal(text.trim().split('\n').length, 3, 'all rows, 600 ms in all')
  const [{ statement_timeout: limit }] = await database.rows<{ statement_timeout: string }>(sql`SHOW statement_timeout`)
  t.equal(limit, '300ms')
})

t.test('/healthz answers while the process runs; /readyz is 503 once the database is closed', async (t) => {
  // Its own database handle, which the test closes itself while the app still runs.
  const url = process.env.DATABASE_URL ? (await testDatabase(t)).url : undefined
  const database = await openDatabase(url ? { databaseUrl: url, poolSize: 2 } : { inMemory: true })
  if (!url) await migrate({}, database)
  const { app } = await buildTestApp(t, { WORKER: 'false' }, { database })
  t.same((await app.inject({ url: '/healthz' })).json(), { status: 'ok' })
  t.same((await app.inject({ url: '/readyz' })).json(), { status: 'ready' })
  await database.close()
  const ready = await app.inject({ url: '/readyz' })
  t.equal(ready.statusCode, 503)
  t.equal(ready.json().status, 'unavailable')
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'liveness does not depend on the database')
})
