// Drill: two instances, two workers, one PostgreSQL: started together on an empty database they
// migrate once; 1,000 sign-ups spread over both give exactly 1,000 mails (SKIP LOCKED claims, no double send).
import { readFileSync } from 'node:fs'
import t from 'tap'
import { startSmtp } from '../test/helpers/smtp.js'
import { waitUntil } from '../test/helpers/wait.js'
import { checkDelivery, drillDatabase, outboxState, pool, signup, startServer } from './harness.js'

const journal = JSON.parse(readFileSync(new URL('../migrations/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] }

t.test('two instances started together on an empty database migrate once and send exactly one mail per sign-up', async (t) => {
  const db = await drillDatabase(t)
  const sink = await startSmtp(t)
  const env = { DATABASE_URL: db.url, SMTP_URL: sink.url, SMTP_POOL_SIZE: '3', LOG_LEVEL: 'info' }
  const [a, b] = await Promise.all([startServer(t, 'a', env), startServer(t, 'b', env)])

  const [{ n: applied }] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`
  t.equal(applied, journal.entries.length, 'each migration was applied once')

  const addresses = Array.from({ length: 1000 }, (_, i) => `twin-${i}@example.org`)
  const statuses = await pool(addresses, 16, (email, i) => signup(i % 2 === 0 ? a.url : b.url, email))
  t.same(statuses.filter((s) => s !== 202), [], 'all 1,000 sign-ups got 202')

  await waitUntil(async () => (await outboxState(db.sql)).sent === 1000, 180_000, () => `${sink.mails.length} mails so far`)
  t.equal(sink.mails.length, 1000, 'exactly 1,000 mails')
  t.equal(new Set(sink.mails.map((m) => m.parsed.messageId)).size, 1000, '1,000 distinct Message-IDs')
  const sentBy = (s: typeof a) => s.logs.filter((l) => l.msg === 'mail sent').length
  // A server's log line can reach us a moment after the sent mark it follows: wait for the lines to catch up.
  await waitUntil(() => sentBy(a) + sentBy(b) >= 1000, 10_000, () => `${sentBy(a) + sentBy(b)} 'mail sent' log lines`)
  t.comment(`instance a sent ${sentBy(a)}, instance b sent ${sentBy(b)}`)
  t.equal(sentBy(a) + sentBy(b), 1000, 'the two workers together sent each message once')
  t.equal(checkDelivery(t, addresses, sink), 0, 'no redelivery at all without a crash')

  a.proc.kill('SIGTERM')
  b.proc.kill('SIGTERM')
  t.same([(await a.exited).code, (await b.exited).code], [0, 0])
})
