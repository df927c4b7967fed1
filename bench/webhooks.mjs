// Webhook bench: 5,000 events written at once, ordered, fanned out and delivered signed by the app's worker to a
// local receiver, against a plain loop of fetch POSTs with the same concurrency to the same receiver (before and
// after, interleaved because the machine is shared). Counts what was lost and what arrived twice.
import { appEnv, ADMIN_TOKEN, cpuDuring, freePort, root, sleep, startNode, stopChild, waitFor200 } from './lib.mjs'

const nextMessage = (child, type) => new Promise((resolve, reject) => {
  const onMessage = (msg) => { if (msg.type === type) { cleanup(); resolve(msg) } }
  const onExit = (code) => { cleanup(); reject(new Error(`child exited ${code} while waiting for ${type}`)) }
  const cleanup = () => { child.off('message', onMessage); child.off('exit', onExit) }
  child.on('message', onMessage)
  child.once('exit', onExit)
})

// What a subscription.confirmed event carries, so both sides send bodies of the same size.
const DATA = {
  subscriber: { id: '0b6c1f7e-8a0e-4b7a-9d55-6a4c2b0f5e11', email: 'someone@example.com', name: 'Some One' },
  list: { slug: 'main', name: 'Our mailing list' },
  status: 'confirmed',
  consent: {
    signedUpAt: '2026-01-01T00:00:00.000Z',
    ip: '203.0.113.9',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
    consentTextVersion: 1,
    consentText: 'I agree to receive emails from Our mailing list. I can unsubscribe at any time with the link in every email.',
    confirmedAt: '2026-01-01T00:05:00.000Z',
    confirmIp: '203.0.113.9',
    confirmUserAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0'
  }
}

async function expect (sink, n) {
  const ack = nextMessage(sink, 'expecting')
  sink.send({ cmd: 'expect', n })
  await ack
  return { done: nextMessage(sink, 'done') }
}

async function settledStats (sink) {
  await sleep(1000) // anything sent twice arrives in this second too
  const stats = nextMessage(sink, 'stats')
  sink.send({ cmd: 'stats' })
  return stats
}

async function fetchLoop (sink, url, count, concurrency) {
  const loop = startNode(`${root}bench/fetch-loop.mjs`, { URL: url, COUNT: String(count), CONCURRENCY: String(concurrency), DATA: JSON.stringify(DATA) }, { label: 'fetch-loop', ipc: true })
  await nextMessage(loop.child, 'ready')
  const { done } = await expect(sink, count)
  const started = performance.now()
  loop.child.send({ cmd: 'go' })
  await done
  const ms = performance.now() - started
  const { failed } = await nextMessage(loop.child, 'sent')
  await stopChild(loop.child)
  const stats = await settledStats(sink)
  return { ms, perSec: count / (ms / 1000), failed, received: stats.received, duplicates: stats.duplicates }
}

async function drain (db, sink, appPid, count, round) {
  const { done } = await expect(sink, count)
  const { serverCpuMs, dbCpuMs, result: ms } = await cpuDuring(db.sql, db.name, appPid, 'joinlist', async () => {
    const started = performance.now()
    // One statement, as a burst of changes would write them: each its own subscriber (its own order key).
    await db.sql`
      INSERT INTO webhook_events (type, order_key, list_slug, data)
      SELECT 'subscription.confirmed', 'bench-' || ${round}::int || '-' || g, 'main', ${db.sql.json(DATA)}::jsonb
      FROM generate_series(1, ${count}::int) g`
    await done
    return performance.now() - started
  })
  const stats = await settledStats(sink)
  return { ms, perSec: count / (ms / 1000), cpuMsPerEvent: serverCpuMs / count, dbCpuMsPerEvent: dbCpuMs / count, received: stats.received, duplicates: stats.duplicates }
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length

export async function webhooksBench ({ db, log, count = 5000, concurrency = 16, rounds = 2 }) {
  await db.sql`TRUNCATE webhook_events, webhook_endpoints, webhook_deliveries RESTART IDENTITY CASCADE`
  const sinkProc = startNode(`${root}bench/webhook-sink.mjs`, {}, { label: 'webhook-sink', ipc: true })
  const sink = sinkProc.child
  const { port: sinkPort } = await nextMessage(sink, 'listening')
  const target = `http://127.0.0.1:${sinkPort}/hook`
  const port = await freePort()
  const app = startNode(`${root}dist/server.js`, appEnv(port, db.url, {
    WORKER: 'true', WORKER_POLL_MS: '100', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_CONCURRENCY: String(concurrency)
  }), { label: 'webhooks' })
  try {
    await waitFor200(`http://127.0.0.1:${port}/readyz`, app.child)
    const res = await fetch(`http://127.0.0.1:${port}/admin/api/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: target, eventTypes: ['subscription.confirmed'] })
    })
    if (res.status !== 201) throw new Error(`adding the endpoint answered ${res.status}: ${await res.text()}`)
    const raw = []
    const workers = []
    for (let round = 1; round <= rounds; round++) {
      log(`webhooks: plain fetch loop, ${count} POSTs, ${concurrency} at a time, round ${round}`)
      raw.push(await fetchLoop(sink, target, count, concurrency))
      log(`webhooks: worker delivering ${count} events, round ${round}`)
      workers.push(await drain(db, sink, app.child.pid, count, round))
    }
    log('webhooks: plain fetch loop, last pass')
    raw.push(await fetchLoop(sink, target, count, concurrency))
    const [rows] = await db.sql`SELECT count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
      count(*) FILTER (WHERE attempts > 1)::int AS retried FROM webhook_deliveries`
    const ratios = workers.map((w, i) => w.perSec / mean([raw[i].perSec, raw[i + 1].perSec]))
    return {
      count,
      concurrency,
      raw,
      workers,
      rawPerSec: mean(raw.map((r) => r.perSec)),
      worker: {
        perSec: mean(workers.map((w) => w.perSec)),
        cpuMsPerEvent: mean(workers.map((w) => w.cpuMsPerEvent)),
        dbCpuMsPerEvent: mean(workers.map((w) => w.dbCpuMsPerEvent)),
        received: workers.reduce((a, w) => a + w.received, 0),
        duplicates: workers.reduce((a, w) => a + w.duplicates, 0),
        delivered: rows.delivered,
        retried: rows.retried
      },
      ratios,
      ratio: mean(ratios)
    }
  } finally {
    await stopChild(app.child)
    await stopChild(sink)
  }
}
