// Drill: kill -9 right after the 202s, while the worker is mid-send; a restart delivers everything, and the
// messages the dead process had claimed are reclaimed once their lease runs out. The subscriber row and its mail
// are written in one transaction, and claims are leased, so a dead worker loses nothing.
import t from 'tap'
import { startSmtp } from '../test/helpers/smtp.js'
import { waitUntil } from '../test/helpers/wait.js'
import { checkDelivery, drillDatabase, outboxState, pool, signup, startServer } from './harness.js'

t.test('kill -9 mid-send loses nothing: after a restart every accepted sign-up gets its mail, claimed ones after the lease', async (t) => {
  const db = await drillDatabase(t)
  // A slow mail server, so the kill lands while messages are claimed and on the wire.
  const sink = await startSmtp(t, { delayMs: 1500 })
  const env = { DATABASE_URL: db.url, SMTP_URL: sink.url, OUTBOX_LEASE_SECONDS: '5', SMTP_POOL_SIZE: '4' }
  const first = await startServer(t, 'first', env)

  const addresses = Array.from({ length: 60 }, (_, i) => `crash-${i}@example.org`)
  const statuses = await pool(addresses, 10, (email) => signup(first.url, email))
  t.same(statuses.filter((s) => s !== 202), [], 'all 60 sign-ups got 202')
  // Past the first small batch, the worker holds a full batch with a message on each SMTP connection.
  await waitUntil(async () => (await outboxState(db.sql)).sending >= 4 && sink.attempts.size >= 2, 20_000,
    () => 'the worker never had several messages in hand')

  first.proc.kill('SIGKILL')
  t.equal((await first.exited).signal, 'SIGKILL')
  const claimed = await db.sql<{ id: number }[]>`SELECT id FROM outbox WHERE status = 'sending' ORDER BY id`
  const before = await outboxState(db.sql)
  t.comment(`at the kill: ${JSON.stringify(before)}, ${sink.mails.length} mails delivered`)
  t.ok(claimed.length > 0, 'the dead process left claimed (sending) messages behind')
  t.ok(before.sent < 60, 'and unsent ones')

  sink.opts.delayMs = 50
  const second = await startServer(t, 'second', env)
  await waitUntil(async () => (await outboxState(db.sql)).sent === 60, 90_000,
    () => `only ${sink.mails.length} mails delivered`)
  const reclaimed = await db.sql<{ id: number, attempts: number, status: string }[]>`
    SELECT id, attempts, status::text AS status FROM outbox WHERE id IN ${db.sql(claimed.map((c) => c.id))}`
  t.ok(reclaimed.every((r) => r.status === 'sent' && r.attempts >= 2), 'every claimed-but-unfinished message was claimed again and sent')

  checkDelivery(t, addresses, sink)
  second.proc.kill('SIGTERM')
  t.equal((await second.exited).code, 0)
})
