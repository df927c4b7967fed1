// Mail drain bench: 5,000 confirmation mails in the outbox, drained by the app's worker into a real SMTP sink,
// against nodemailer's pool sending 5,000 prepared mails straight to the same sink (before and after).
import { appEnv, cpuDuring, cpuMs, freePort, nextMessage, root, sleep, startNode, stopChild, waitFor200 } from './lib.mjs'

async function expect (sink, n) {
  const ack = nextMessage(sink, 'expecting')
  sink.send({ cmd: 'expect', n })
  await ack
  // Wrapped, so awaiting expect() waits for the acknowledgement only, not for the last mail.
  return { done: nextMessage(sink, 'done') }
}

async function settledStats (sink) {
  await sleep(1000) // anything sent twice arrives in this second too
  const stats = nextMessage(sink, 'stats')
  sink.send({ cmd: 'stats' })
  return stats
}

async function rawPool (sink, smtpUrl, count, poolSize) {
  const raw = startNode(`${root}bench/raw-pool.mjs`, { SMTP_URL: smtpUrl, COUNT: String(count), SMTP_POOL_SIZE: String(poolSize) }, { label: 'raw-pool', ipc: true })
  await nextMessage(raw.child, 'ready')
  const { done } = await expect(sink, count)
  const started = performance.now()
  const cpuBefore = cpuMs([raw.child.pid]).get(raw.child.pid)
  raw.child.send({ cmd: 'go' })
  await done
  const ms = performance.now() - started
  const sent = await nextMessage(raw.child, 'sent')
  const cpuPerMail = (cpuMs([raw.child.pid]).get(raw.child.pid) - cpuBefore) / count
  await stopChild(raw.child)
  const stats = await settledStats(sink)
  return { ms, perSec: count / (ms / 1000), cpuMsPerMail: cpuPerMail, failed: sent.failed, received: stats.received, duplicates: stats.duplicates }
}

async function drain (db, sink, appPid, count, round) {
  const { done } = await expect(sink, count)
  const { serverCpuMs, dbCpuMs, result: ms } = await cpuDuring(db.sql, db.name, appPid, 'joinlist', async () => {
    const started = performance.now()
    // One statement, so the worker sees all of them at once: pending sign-ups, each with its confirmation mail.
    await db.sql`
      WITH s AS (
        INSERT INTO subscribers (email, email_normalized, mailbox, confirm_token_hash, confirm_token_expires_at)
        SELECT 'drain' || ${round}::int || '-' || g || '@example.com', 'drain' || ${round}::int || '-' || g || '@example.com',
          'drain' || ${round}::int || '-' || g || '@example.com', md5(${round}::int || '-' || g), now() + interval '3 days'
        FROM generate_series(1, ${count}::int) g
        RETURNING id
      ), p AS (
        INSERT INTO subscriptions (subscriber_id, list_id, signed_up_at)
        SELECT id, (SELECT id FROM lists WHERE slug = 'main'), now() FROM s
      )
      INSERT INTO outbox (subscriber_id, kind, message_id, payload)
      SELECT id, 'confirmation', '<drain-' || id || '@mail.example.org>', jsonb_build_object('token', 'tok' || md5(id::text))
      FROM s`
    await done
    return performance.now() - started
  })
  const stats = await settledStats(sink)
  return { ms, perSec: count / (ms / 1000), cpuMsPerMail: serverCpuMs / count, dbCpuMsPerMail: dbCpuMs / count, received: stats.received, duplicates: stats.duplicates }
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length

/**
 * Interleaved, because the machine is shared: raw, worker, raw, worker, raw. Each worker drain is compared with
 * the mean of the raw passes either side of it.
 */
export async function mailBench ({ db, log, count = 5000, poolSize = 5, rounds = 2 }) {
  await db.sql`TRUNCATE subscribers, outbox RESTART IDENTITY CASCADE`
  const sinkProc = startNode(`${root}bench/smtp-sink.mjs`, {}, { label: 'smtp-sink', ipc: true })
  const sink = sinkProc.child
  const { port: smtpPort } = await nextMessage(sink, 'listening')
  const smtpUrl = `smtp://127.0.0.1:${smtpPort}`
  const port = await freePort()
  const app = startNode(`${root}dist/server.js`, appEnv(port, db.url, {
    WORKER: 'true', SMTP_URL: smtpUrl, SMTP_POOL_SIZE: String(poolSize), WORKER_POLL_MS: '100'
  }), { label: 'mail' })
  try {
    await waitFor200(`http://127.0.0.1:${port}/readyz`, app.child)
    const raw = []
    const workers = []
    for (let round = 1; round <= rounds; round++) {
      log(`mail: nodemailer pool (${poolSize} connections), ${count} prepared mails, round ${round}`)
      raw.push(await rawPool(sink, smtpUrl, count, poolSize))
      log(`mail: outbox worker draining ${count} confirmation mails, round ${round}`)
      workers.push(await drain(db, sink, app.child.pid, count, round))
    }
    log(`mail: nodemailer pool (${poolSize} connections), last pass`)
    raw.push(await rawPool(sink, smtpUrl, count, poolSize))
    const [rows] = await db.sql`SELECT count(*) FILTER (WHERE status = 'sent')::int AS sent,
      count(*) FILTER (WHERE attempts > 1)::int AS retried FROM outbox`
    const ratios = workers.map((w, i) => w.perSec / mean([raw[i].perSec, raw[i + 1].perSec]))
    return {
      count,
      poolSize,
      raw,
      workers,
      rawPerSec: mean(raw.map((r) => r.perSec)),
      rawCpuMsPerMail: mean(raw.map((r) => r.cpuMsPerMail)),
      worker: {
        perSec: mean(workers.map((w) => w.perSec)),
        cpuMsPerMail: mean(workers.map((w) => w.cpuMsPerMail)),
        dbCpuMsPerMail: mean(workers.map((w) => w.dbCpuMsPerMail)),
        received: workers.reduce((a, w) => a + w.received, 0),
        duplicates: workers.reduce((a, w) => a + w.duplicates, 0),
        outboxSent: rows.sent,
        outboxRetried: rows.retried
      },
      ratios,
      ratio: mean(ratios)
    }
  } finally {
    await stopChild(app.child)
    await stopChild(sink)
  }
}
