// A burst of sign-ups larger than the worker's window: every confirmation mail arrives exactly once and every
// outbox row ends up sent after one attempt (the worker claims in a sliding window and marks rows sent in groups).
import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildTestApp, json } from './helpers/app.js'
import { waitUntil } from './helpers/wait.js'

t.test('a burst of sign-ups gets one confirmation mail each, and every outbox row is marked sent once', async (t) => {
  const { app, smtp, database } = await buildTestApp(t, { SMTP_POOL_SIZE: '1', RATE_LIMIT_SUBSCRIBE_MAX: '1000' })
  const count = 30 // more than the worker's window of SMTP_POOL_SIZE × 20 = 20
  const signups = await Promise.all(Array.from({ length: count }, (_, i) =>
    app.inject({ method: 'POST', url: '/subscribe', ...json({ email: `burst${i}@example.org` }) })))
  t.same(signups.map((r) => r.statusCode), Array(count).fill(202))

  await smtp.waitFor(count, 30_000)
  const recipients = smtp.mails.map((m) => m.envelope.to[0]).sort()
  t.same(recipients, Array.from({ length: count }, (_, i) => `burst${i}@example.org`).sort(), 'each address once')
  t.equal(new Set(smtp.mails.map((m) => m.parsed.messageId)).size, count, 'no Message-ID twice')

  await waitUntil(async () => {
    const [row] = await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM outbox WHERE status = 'sent'`)
    return Number(row.n) === count
  }, 10_000, () => 'all outbox rows sent')
  const [row] = await database.rows<{ retried: number, unsent: number }>(sql`
    SELECT count(*) FILTER (WHERE attempts <> 1)::int AS retried, count(*) FILTER (WHERE sent_at IS NULL OR payload IS NOT NULL)::int AS unsent
    FROM outbox`)
  t.same({ retried: Number(row.retried), unsent: Number(row.unsent) }, { retried: 0, unsent: 0 }, 'one attempt each; sent_at set and token dropped')
  t.equal(smtp.mails.length, count, 'nothing sent twice')
})
