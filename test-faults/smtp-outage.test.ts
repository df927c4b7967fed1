// Drill: the SMTP server is gone for 30 s while 200 sign-ups arrive: every sign-up still gets 202 and its mail once
// the server is back; a temporary refusal (451) is retried, a permanent one (550) waits, dead, for staff to retry.
import t from 'tap'
import { staff } from '../test/helpers/app.js'
import { startSmtp } from '../test/helpers/smtp.js'
import { waitUntil } from '../test/helpers/wait.js'
import { checkDelivery, drillDatabase, outboxState, pool, signup, sleep, startServer } from './harness.js'

const OUTAGE_MS = 30_000

t.test('200 sign-ups during a 30 s SMTP outage are all accepted and all delivered once it returns; 451 is retried, 550 goes dead until staff retry', async (t) => {
  const db = await drillDatabase(t)
  let refuseHard = true
  // grey-* addresses get 451 twice (greylisting); refused-* get 550 until the drill lifts it.
  const sink = await startSmtp(t, {
    refuse: (to, attempt) => to.startsWith('grey-') && attempt <= 2 ? 451 : to.startsWith('refused-') && refuseHard ? 550 : undefined
  })
  const server = await startServer(t, 'app', { DATABASE_URL: db.url, SMTP_URL: sink.url })

  await sink.stop()
  const outageStart = Date.now()
  const addresses = Array.from({ length: 200 }, (_, i) =>
    i % 40 === 1 ? `grey-${i}@example.org` : i % 40 === 2 ? `refused-${i}@example.org` : `user-${i}@example.org`)
  const statuses = await pool(addresses, 10, (email) => signup(server.url, email))
  t.same(statuses.filter((s) => s !== 202), [], 'every sign-up got 202 while SMTP was down')

  await waitUntil(async () => (await db.sql`SELECT max(attempts)::int AS n FROM outbox`)[0].n >= 2, OUTAGE_MS,
    () => 'no message was retried during the outage')
  const during = await fetch(`${server.url}/metrics`, { headers: staff }).then((r) => r.text())
  const backlog = Number(/^joinlist_outbox_backlog (\d+)/m.exec(during)?.[1])
  t.equal(backlog, 200, '/metrics shows the whole backlog while SMTP is down')
  t.equal(sink.mails.length, 0)

  // The outage lasts its full length whatever happened meanwhile: its duration is the fault under test.
  await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStart)))
  await sink.start()
  t.comment(`SMTP was down for ${Math.round((Date.now() - outageStart) / 1000)} s`)

  await waitUntil(async () => { const s = await outboxState(db.sql); return s.sent === 195 && s.dead === 5 }, 60_000,
    () => `expected 195 sent and 5 dead, have ${JSON.stringify(sink.mails.length)} mails`)
  const grey = addresses.filter((a) => a.startsWith('grey-'))
  t.same(grey.filter((a) => !sink.refused.some((r) => r.to === a && r.code === 451)), [], 'greylisted addresses got 451 first')
  t.same(grey.filter((a) => sink.mails.filter((m) => m.envelope.to[0] === a).length !== 1), [], 'and their mail arrived once after the retries')

  const overview = await fetch(`${server.url}/admin/outbox`, { headers: staff }).then((r) => r.json()) as {
    counts: Record<string, number>, dead: Array<{ id: number, to: string, lastError: string }>
  }
  t.equal(overview.counts.dead, 5, 'the 550s are dead letters')
  t.equal(overview.dead.length, 5)
  t.ok(overview.dead.every((d) => /550/.test(d.lastError) && !d.to.includes('refused-')), 'listed with the error and a masked address')

  refuseHard = false
  const one = await fetch(`${server.url}/admin/outbox/${overview.dead[0].id}/retry`, { method: 'POST', headers: staff })
  t.equal(one.status, 200)
  await waitUntil(async () => (await outboxState(db.sql)).dead === 4, 30_000, () => 'the retried message was not sent')
  const all = await fetch(`${server.url}/admin/outbox/retry-all`, { method: 'POST', headers: staff }).then((r) => r.json())
  t.same(all, { requeued: 4 })
  await waitUntil(async () => (await outboxState(db.sql)).sent === 200, 30_000, () => 'retry-all did not deliver')

  checkDelivery(t, addresses, sink)
  server.proc.kill('SIGTERM')
  t.same(await server.exited, { code: 0, signal: null }, 'exits 0 on SIGTERM')
})
