// Retention, keeping personal data no longer than needed (GDPR Art. 5(1)(e)): unconfirmed sign-ups are deleted after PENDING_RETENTION_DAYS with their token, IP and
// user agent, by the server's own timer (one instance at a time) and by `npm run purge`; expired tokens are cleared.
import t from 'tap'
import postgres from 'postgres'
import { sql } from 'drizzle-orm'
import { buildTestApp, json } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { waitUntil } from '../helpers/wait.js'
import { linkIn, pathOf } from '../helpers/mail.js'
import { purge, PURGE_LOCK_ID } from '../../src/domain/retention.js'
import { loadConfig } from '../../src/config.js'

const DAY = 86_400_000

t.test('sign-ups left unconfirmed past the retention period are deleted with their token, IP and user agent', async (t) => {
  const { app, smtp, database, clock } = await buildTestApp(t, { PENDING_RETENTION_DAYS: '30' })
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'old@example.org', name: 'Old' }), headers: { 'content-type': 'application/json', 'user-agent': 'Old/1.0' } })
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'kept@example.org' }) })
  const [, second] = await smtp.waitFor(2)
  const keptMail = [smtp.mails[0], second].find((m) => m.envelope.to[0] === 'kept@example.org')!
  await app.inject({ method: 'POST', url: pathOf(linkIn(keptMail, '/confirm/')), headers: { accept: 'application/json' } })

  clock.advance(29 * DAY)
  t.match(await app.retention.runOnce(), { skipped: false, deleted: 0 }, 'not before the period is over')
  clock.advance(2 * DAY)
  t.match(await app.retention.runOnce(), { skipped: false, deleted: 1 })

  const rows = await database.rows<{ email: string, status: string }>(sql`SELECT email, status FROM subscribers`)
  t.same(rows, [{ email: 'kept@example.org', status: 'confirmed' }], 'confirmed subscribers stay')
  const orphans = await database.rows<{ ip: string | null, user_agent: string | null, type: string }>(sql`
    SELECT type, host(ip) AS ip, user_agent FROM consent_events WHERE subscriber_id IS NULL`)
  t.same(orphans, [{ type: 'signup', ip: null, user_agent: null }], 'the ledger keeps only that a sign-up happened')
  const [outbox] = await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM outbox`)
  t.equal(Number(outbox.n), 2, 'the purged sign-up took its queued mail with it')
})

t.test('an unsubscribed address that signed up again without confirming stays suppressed, but loses that sign-up\'s IP and user agent', async (t) => {
  const { app, smtp, database, clock } = await buildTestApp(t, { CONFIRM_COOLDOWN_MINUTES: '0' })
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'uma@example.org' }) })
  const [confirmation] = await smtp.waitFor(1)
  await app.inject({ method: 'POST', url: pathOf(linkIn(confirmation, '/confirm/')), headers: { accept: 'application/json' } })
  const [, welcome] = await smtp.waitFor(2)
  await app.inject({ method: 'POST', url: pathOf(linkIn(welcome, '/unsubscribe/')), headers: { accept: 'application/json', 'user-agent': 'Leaver/1.0' } })
  clock.advance(DAY)
  await app.inject({ method: 'POST', url: '/subscribe', payload: JSON.stringify({ email: 'uma@example.org' }), headers: { 'content-type': 'application/json', 'user-agent': 'Again/2.0' } })

  clock.advance(31 * DAY)
  t.match(await app.retention.runOnce(), { skipped: false, deleted: 0 })
  const [row] = await database.rows(sql`SELECT status, signup_ip, signup_user_agent, confirm_token_hash FROM subscribers`)
  t.same(row, { status: 'unsubscribed', signup_ip: null, signup_user_agent: null, confirm_token_hash: null })
  const ledger = await database.rows<{ type: string, user_agent: string | null }>(sql`SELECT type, user_agent FROM consent_events ORDER BY id`)
  t.same(ledger.map((e) => [e.type, e.user_agent]), [['signup', 'lightMyRequest'], ['confirm', 'lightMyRequest'], ['unsubscribe', 'Leaver/1.0'], ['resubscribe', null]],
    'the proof of the real consent and of the unsubscribe stays')
})

t.test('expired confirmation tokens are cleared by the purge', async (t) => {
  const { app, smtp, database, clock } = await buildTestApp(t, { CONFIRM_TTL_HOURS: '72' })
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'slow@example.org' }) })
  const [mail] = await smtp.waitFor(1)
  clock.advance(73 * 3_600_000)
  t.match(await app.retention.runOnce(), { skipped: false, deleted: 0, tokensCleared: 1 })
  const [row] = await database.rows<{ confirm_token_hash: string | null, status: string }>(sql`SELECT confirm_token_hash, status FROM subscribers`)
  t.same(row, { confirm_token_hash: null, status: 'pending' })
  const res = await app.inject({ method: 'POST', url: pathOf(linkIn(mail, '/confirm/')), headers: { accept: 'application/json' } })
  t.equal(res.statusCode, 404, 'the old link no longer works at all')
})

t.test('with several instances only the one holding the advisory lock purges', async (t) => {
  const { database, url } = await testDatabase(t)
  if (!url) {
    // Embedded PGlite is one process: there is no second instance to race.
    t.match(await purge(database, new Date(), 30), { skipped: false })
    return
  }
  const other = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => other.end())
  const holder = await other.reserve()
  await holder`SELECT pg_advisory_lock(${PURGE_LOCK_ID})`
  t.same(await purge(database, new Date(), 30), { skipped: true }, 'another instance is purging: skip this round')
  await holder`SELECT pg_advisory_unlock(${PURGE_LOCK_ID})`
  holder.release()
  t.match(await purge(database, new Date(), 30), { skipped: false, deleted: 0 })
})

t.test('the server runs the purge on its own, right after it starts', async (t) => {
  const { database } = await testDatabase(t)
  const first = await buildTestApp(t, {}, { database })
  await first.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'gone@example.org' }) })
  await database.rows(sql`UPDATE subscribers SET signed_up_at = signed_up_at - interval '40 days'`)
  await buildTestApp(t, { PURGE_INTERVAL_MINUTES: '60' }, { database })
  await waitUntil(async () => (await database.rows(sql`SELECT 1 FROM subscribers`)).length === 0, 10_000, () => 'purge at start')
  t.pass('the 40-day-old pending sign-up is gone')
})

t.test('retention settings are validated', async (t) => {
  t.equal(loadConfig({}).pendingRetentionDays, 30)
  t.equal(loadConfig({}).purgeIntervalMinutes, 60)
  t.throws(() => loadConfig({ PENDING_RETENTION_DAYS: '0' }), /PENDING_RETENTION_DAYS/)
})
