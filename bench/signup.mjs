// Sign-up bench: POST /subscribe with a fresh address per request (JSON and form), 20 connections for a fixed
// time, against the bare INSERT reference. The machine is shared, so the runs are interleaved in rounds
// (reference, JSON, form, JSON without the request log line) and each round gives its own ratios; CPU time per
// request (server process + its PostgreSQL backends, from /proc) says where the time goes.
import autocannon from 'autocannon'
import { appEnv, cpuDuring, freePort, root, startNode, stopChild, waitFor200 } from './lib.mjs'

const CONNECTIONS = 20

function load (url, kind, seconds, prefix) {
  let n = 0
  const body = kind === 'form'
    ? () => `email=${prefix}-${n++}%40example.com`
    : () => JSON.stringify({ email: `${prefix}-${n++}@example.com` })
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
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

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }

export async function signupBench ({ db, seconds, rounds, poolSize, log }) {
  const servers = {
    reference: { kind: 'json', status: '202', app: 'bench-reference', script: 'bench/reference-server.mjs', env: (port) => ({ DATABASE_URL: db.url, PORT: String(port), POOL_SIZE: String(poolSize) }) },
    json: { kind: 'json', status: '202', app: 'joinlist', script: 'dist/server.js', env: (port) => appEnv(port, db.url) },
    form: { kind: 'form', status: '303', app: 'joinlist', script: 'dist/server.js', env: (port) => appEnv(port, db.url) },
    jsonNoLog: { kind: 'json', status: '202', app: 'joinlist', script: 'dist/server.js', env: (port) => appEnv(port, db.url, { LOG_LEVEL: 'warn' }) }
  }
  const runs = Object.fromEntries(Object.keys(servers).map((k) => [k, []]))
  try {
    for (const [name, s] of Object.entries(servers)) {
      s.port = await freePort()
      s.proc = startNode(`${root}${s.script}`, s.env(s.port), { label: `signup-${name}` })
      await waitFor200(`http://127.0.0.1:${s.port}/readyz`, s.proc.child)
    }
    for (const [name, s] of Object.entries(servers)) {
      log(`signup: warming up ${name}`)
      await load(`http://127.0.0.1:${s.port}`, s.kind, 2, `warm-${name}`)
    }
    for (let round = 1; round <= rounds; round++) {
      for (const [name, s] of Object.entries(servers)) {
        // One server process at a time gets load; the app's processes are separate so each keeps its own pool.
        log(`signup: round ${round}/${rounds}, ${name}`)
        const { result: r, serverCpuMs, dbCpuMs } = await cpuDuring(db.sql, db.name, s.proc.child.pid, s.app,
          () => load(`http://127.0.0.1:${s.port}`, s.kind, seconds, `${name}-${round}`))
        const ok = Number(r.statusCodeStats?.[s.status]?.count ?? 0)
        runs[name].push({
          reqPerSec: r.requests.average,
          p50: r.latency.p50,
          p99: r.latency.p99,
          requests: r.requests.total,
          notExpected: r.requests.total - ok + r.errors + r.timeouts,
          serverCpuMsPerReq: serverCpuMs / Math.max(1, ok),
          dbCpuMsPerReq: dbCpuMs / Math.max(1, ok)
        })
      }
    }
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.proc && stopChild(s.proc.child)))
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
    }
  }
  const [outbox] = await db.sql`SELECT count(*)::int AS n FROM outbox`
  const [subs] = await db.sql`SELECT count(*)::int AS n FROM subscribers WHERE email NOT LIKE 'reference-%' AND email NOT LIKE 'warm-reference-%'`
  return { connections: CONNECTIONS, seconds, rounds, poolSize, ...summary, runs, rowsCheck: { subscribers: subs.n, outbox: outbox.n } }
}
