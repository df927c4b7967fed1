// Sign-up bench: POST /subscribe with a fresh address per request (JSON and form), 20 connections for a fixed
// time, against the bare INSERT reference (bench/reference-server.mjs). The app runs as `npm start` runs it: the
// outbox worker on, sending to a reachable but slow SMTP server (so its mail does not compete for the CPU), the
// default log level, the rate limits raised only through their variables. The machine is shared, so the runs are
// interleaved in rounds (reference, JSON, form) and each round gives its own ratios; CPU time per sign-up (server
// process + its PostgreSQL backends, from /proc) says where the time goes, and the app's RSS is read when idle,
// after each round and after 100,000 sign-ups.
import autocannon from 'autocannon'
import { appEnv, cpuDuring, freePort, nextMessage, root, rssMb, sleep, startNode, stopChild, waitFor200 } from './lib.mjs'

const CONNECTIONS = 20
/** Sign-ups the app has taken when its "after" RSS is read. */
const SIGNUPS_FOR_RSS = Number(process.env.BENCH_SIGNUPS_FOR_RSS || 100_000)
/** How long the slow SMTP server takes to accept each mail. */
const SMTP_DELAY_MS = 1000

// Fresh addresses, three in four at large providers (no per-domain cap) and the rest spread over 500 organisations'
// domains, so no domain reaches CONFIRM_DOMAIN_HOURLY_CAP and every sign-up is written and gets its mail.
const DOMAINS = ['gmail.com', 'outlook.com', 'yahoo.com']
const address = (prefix, n) => `${prefix}-${n}@${n % 4 < 3 ? DOMAINS[n % 4] : `org${n % 500}.example`}`

function load (url, kind, { seconds, amount }, prefix) {
  let n = 0
  const body = kind === 'form'
    ? () => `email=${encodeURIComponent(address(prefix, n++))}`
    : () => JSON.stringify({ email: address(prefix, n++) })
  return autocannon({
    url,
    connections: CONNECTIONS,
    ...(amount ? { amount } : { duration: seconds }),
    requests: [{
      method: 'POST',
      path: '/subscribe',
      headers: kind === 'form'
        ? { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }
        : { 'content-type': 'application/json', accept: 'application/json' },
      setupRequest: (req) => ({ ...req, body: body() })
    }]
  })
}

/**
 * A production PostgreSQL has autovacuum on, which analyses a table again each time it has grown by a tenth; without
 * it the planner keeps the plans it made for empty tables (a scan of the whole table where an index would do). A
 * server with autovacuum off, as on some CI machines, gets an ANALYZE after the warm-up and after each round
 * instead, outside the timed runs.
 */
async function analyzeIfNoAutovacuum (sql, log) {
  const [{ autovacuum }] = await sql`SHOW autovacuum`
  if (autovacuum === 'on') return false
  log('signup: autovacuum is off on this server: ANALYZE, as autovacuum would')
  await sql`ANALYZE`
  return true
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }
const okCount = (r, status) => Number(r.statusCodeStats?.[status]?.count ?? 0)

export async function signupBench ({ db, seconds, rounds, poolSize, log }) {
  await db.sql`CREATE TABLE bench_subscribers (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now())`
  const sinkProc = startNode(`${root}bench/smtp-sink.mjs`, { SMTP_DELAY_MS: String(SMTP_DELAY_MS) }, { label: 'signup-smtp-sink', ipc: true })
  const { port: smtpPort } = await nextMessage(sinkProc.child, 'listening')
  const servers = {
    reference: { app: 'bench-reference', script: 'bench/reference-server.mjs', env: (port) => ({ DATABASE_URL: db.url, PORT: String(port), POOL_SIZE: String(poolSize) }) },
    // One app process takes both kinds of sign-up, as a deployment does.
    app: { app: 'joinlist', script: 'dist/server.js', env: (port) => appEnv(port, db.url, { WORKER: 'true', SMTP_URL: `smtp://127.0.0.1:${smtpPort}` }) }
  }
  const kinds = [
    { name: 'reference', server: 'reference', kind: 'json', status: '202' },
    { name: 'json', server: 'app', kind: 'json', status: '202' },
    { name: 'form', server: 'app', kind: 'form', status: '303' }
  ]
  const runs = Object.fromEntries(kinds.map((k) => [k.name, []]))
  const rss = { rounds: [] }
  let appSignups = 0
  let analyzed = false
  try {
    for (const s of Object.values(servers)) {
      s.port = await freePort()
      s.proc = startNode(`${root}${s.script}`, s.env(s.port), { label: `signup-${s.app}` })
      await waitFor200(`http://127.0.0.1:${s.port}/readyz`, s.proc.child)
    }
    await sleep(1000)
    rss.idle = rssMb(servers.app.proc.child.pid)
    rss.referenceIdle = rssMb(servers.reference.proc.child.pid)
    for (const k of kinds) {
      log(`signup: warming up ${k.name}`)
      const s = servers[k.server]
      const r = await load(`http://127.0.0.1:${s.port}`, k.kind, { seconds: 2 }, `warm-${k.name}`)
      if (k.server === 'app') appSignups += okCount(r, k.status)
    }
    analyzed = await analyzeIfNoAutovacuum(db.sql, log)
    for (let round = 1; round <= rounds; round++) {
      for (const k of kinds) {
        // One server process at a time gets load.
        log(`signup: round ${round}/${rounds}, ${k.name}`)
        const s = servers[k.server]
        const { result: r, serverCpuMs, dbCpuMs } = await cpuDuring(db.sql, db.name, s.proc.child.pid, s.app,
          () => load(`http://127.0.0.1:${s.port}`, k.kind, { seconds }, `${k.name}-${round}`))
        const ok = okCount(r, k.status)
        if (k.server === 'app') appSignups += ok
        runs[k.name].push({
          reqPerSec: r.requests.average,
          p50: r.latency.p50,
          p99: r.latency.p99,
          requests: r.requests.total,
          notExpected: r.requests.total - ok + r.errors + r.timeouts,
          serverCpuMsPerReq: serverCpuMs / Math.max(1, ok),
          dbCpuMsPerReq: dbCpuMs / Math.max(1, ok)
        })
      }
      rss.rounds.push(rssMb(servers.app.proc.child.pid))
      if (analyzed) await db.sql`ANALYZE`
    }
    if (appSignups < SIGNUPS_FOR_RSS) {
      log(`signup: ${SIGNUPS_FOR_RSS - appSignups} more JSON sign-ups, to ${SIGNUPS_FOR_RSS}`)
      const r = await load(`http://127.0.0.1:${servers.app.port}`, 'json', { amount: SIGNUPS_FOR_RSS - appSignups }, 'fill')
      appSignups += okCount(r, '202')
    }
    rss.afterSignups = rssMb(servers.app.proc.child.pid)
    rss.signups = appSignups
  } finally {
    await Promise.all([...Object.values(servers).map((s) => s.proc && stopChild(s.proc.child)), stopChild(sinkProc.child)])
  }
  const summary = {}
  for (const [name, list] of Object.entries(runs)) {
    summary[name] = {
      reqPerSec: median(list.map((r) => r.reqPerSec)),
      p50: median(list.map((r) => r.p50)),
      p99: median(list.map((r) => r.p99)),
      serverCpuMsPerReq: median(list.map((r) => r.serverCpuMsPerReq)),
      dbCpuMsPerReq: median(list.map((r) => r.dbCpuMsPerReq)),
      notExpected: list.reduce((a, r) => a + r.notExpected, 0)
    }
    if (name !== 'reference') {
      // Ratios per round (same moment on the machine), then their median.
      summary[name].reqPerSecRatio = median(list.map((r, i) => r.reqPerSec / runs.reference[i].reqPerSec))
      summary[name].p99Ratio = median(list.map((r, i) => r.p99 / runs.reference[i].p99))
      const cpu = (r) => r.serverCpuMsPerReq + r.dbCpuMsPerReq
      summary[name].cpuRatio = median(list.map((r, i) => cpu(r) / cpu(runs.reference[i])))
    }
  }
  // Every sign-up answered was written with its confirmation mail (a run's last requests are answered after
  // autocannon stops counting, so a few more are stored than it saw answered).
  const [rows] = await db.sql`SELECT (SELECT count(*)::int FROM subscribers) AS subscribers, (SELECT count(*)::int FROM outbox) AS outbox`
  return { connections: CONNECTIONS, seconds, rounds, poolSize, smtpDelayMs: SMTP_DELAY_MS, ...summary, runs, rss, rowsCheck: { answered: appSignups, ...rows }, analyzed }
}
