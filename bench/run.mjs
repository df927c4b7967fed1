// `npm run bench`: sign-up, export, mail drain and start time, each against a reference measured in the same run
// on this machine. Prints one table and writes bench/results.json. Needs a built dist/ and a PostgreSQL server.
// BENCH_SECONDS (default 5) × BENCH_ROUNDS (3) sets the sign-up load runs; BENCH_ONLY=signup,export,mail,webhooks,start,
// search picks sections.
import { writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { benchDatabase, RATE_LIMITS_RAISED, round, root } from './lib.mjs'
import { signupBench } from './signup.mjs'
import { exportBench } from './export.mjs'
import { mailBench } from './mail.mjs'
import { startBench } from './start.mjs'
import { webhooksBench } from './webhooks.mjs'
import { searchBench } from './search.mjs'

const adminUrl = process.env.DATABASE_URL || 'postgres://root@127.0.0.1:5432/test'
const seconds = Number(process.env.BENCH_SECONDS || 5)
const rounds = Number(process.env.BENCH_ROUNDS || 3)
const only = new Set((process.env.BENCH_ONLY || 'signup,export,mail,webhooks,start,search').split(','))
const exportSizes = (process.env.BENCH_EXPORT_ROWS || '100000,1000000').split(',').map(Number)
const t0 = performance.now()
const log = (msg) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`)

const results = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadAverageAtStart: loadavg() }
log(`database: a fresh joinlist_bench_${process.pid} on ${new URL(adminUrl).host}`)
log(`rate limits raised for the run: ${Object.entries(RATE_LIMITS_RAISED).map(([k, v]) => `${k}=${v}`).join(' ')}`)
const db = await benchDatabase(adminUrl)
try {
  const sections = {
    signup: () => signupBench({ db, seconds, rounds, poolSize: 10, log }),
    export: () => exportBench({ db, log, sizes: exportSizes }),
    mail: () => mailBench({ db, log }),
    webhooks: () => webhooksBench({ db, log }),
    start: () => startBench({ db, log }),
    search: () => searchBench({ db, log, rows: Number(process.env.BENCH_SEARCH_ROWS || 1_000_000) })
  }
  for (const [name, run] of Object.entries(sections)) {
    if (!only.has(name)) continue
    // A failing section is reported and the others still run.
    try { results[name] = await run() } catch (err) { log(`${name} FAILED: ${err.stack}`); results.failed = [...(results.failed ?? []), name] }
  }
} finally {
  await db.drop()
}
results.totalSeconds = round((performance.now() - t0) / 1000, 1)
results.loadAverageAtEnd = loadavg()

const table = []
const row = (what, measured, reference, ratio, target, met) =>
  table.push([what, measured, reference, ratio === undefined ? '' : `${ratio.toFixed(2)}×`, target, met === undefined ? '' : (met ? 'yes' : 'NO')])
if (results.signup) {
  const s = results.signup
  const ref = s.reference
  const cpu = (r) => `${r.serverCpuMsPerReq.toFixed(2)} + ${r.dbCpuMsPerReq.toFixed(2)}`
  for (const [key, label] of [['json', 'JSON'], ['form', 'form']]) {
    const r = s[key]
    row(`signup ${label}: req/s`, round(r.reqPerSec), round(ref.reqPerSec), r.reqPerSecRatio, '≥ 1.00×', r.reqPerSecRatio >= 1)
    row(`signup ${label}: p50 / p99 ms`, `${r.p50} / ${r.p99}`, `${ref.p50} / ${ref.p99}`, r.p99Ratio, 'p99 ≤ 1.20×', r.p99Ratio <= 1.2)
    row(`signup ${label}: CPU ms/sign-up node + PG`, cpu(r), cpu(ref), r.cpuRatio, '< 1.00×', r.cpuRatio < 1)
  }
  const m = s.rss
  // No growth: the last round's RSS within 5 % of the first's (a heap settling after the first round is not growth).
  const growth = m.rounds[m.rounds.length - 1] - m.rounds[0]
  row('signup: app RSS MB idle / after each round', `${round(m.idle)} / ${m.rounds.map((x) => round(x)).join(', ')}`, `(idle ${round(m.referenceIdle)})`, undefined,
    'no growth', growth <= m.rounds[0] * 0.05)
  row(`signup: app RSS MB after ${round(m.signups / 1000)}k sign-ups`, round(m.afterSignups), '', undefined, '', undefined)
  const c = s.rowsCheck
  row('signup: answered / stored / mails queued', `${c.answered} / ${c.subscribers} / ${c.outbox}`, '', undefined, 'each answered one stored, with its mail',
    c.subscribers >= c.answered && c.subscribers === c.outbox)
}
for (const e of results.export ?? []) {
  const k = e.rows >= 1e6 ? `${e.rows / 1e6}M` : `${e.rows / 1e3}k`
  row(`export ${k} rows: s to end of body`, round(e.httpMs / 1000, 2), round(e.psqlMs / 1000, 2), e.ratio, '≤ 1.50×', e.ratio <= 1.5)
  row(`export ${k} rows: server peak RSS MB`, round(e.serverPeakRssMb), `(idle ${round(e.serverRssBeforeMb)})`, undefined, '≤ 100 MB', e.serverPeakRssMb <= 100)
  row(`export ${k} rows: valid CSV, a record per row`, e.validCsv ? 'yes' : 'NO', `${round(e.bytes / 1e6, 1)} MB (psql ${round(e.psqlBytes / 1e6, 1)} MB)`, undefined, 'RFC 4180, all rows', e.validCsv)
}
if (results.mail) {
  const m = results.mail
  row(`mail drain ${m.count} × ${m.workers.length}: mails/s`, round(m.worker.perSec), round(m.rawPerSec), m.ratio, '≥ 0.80×', m.ratio >= 0.8)
  row('mail drain: CPU ms/mail node + PG', `${m.worker.cpuMsPerMail.toFixed(2)} + ${m.worker.dbCpuMsPerMail.toFixed(2)}`, `${m.rawCpuMsPerMail.toFixed(2)} + 0`, undefined, '', undefined)
  const twice = m.worker.duplicates + m.worker.outboxRetried
  row('mail drain: sent twice / missing', `${twice} / ${m.count * m.workers.length - m.worker.received}`, '', undefined, '0 / 0', twice === 0 && m.worker.received === m.count * m.workers.length)
}
if (results.webhooks) {
  const w = results.webhooks
  row(`webhooks ${w.count} × ${w.workers.length}, ${w.concurrency} at once: events/s`, round(w.worker.perSec), round(w.rawPerSec), w.ratio, '≥ 0.80×', w.ratio >= 0.8)
  row('webhooks: CPU ms/event node + PG', `${w.worker.cpuMsPerEvent.toFixed(2)} + ${w.worker.dbCpuMsPerEvent.toFixed(2)}`, '', undefined, '', undefined)
  const lost = w.count * w.workers.length - (w.worker.received - w.worker.duplicates)
  row('webhooks: lost / twice (retries)', `${lost} / ${w.worker.duplicates} (${w.worker.retried})`, '', undefined, '0 / only retries', lost === 0 && w.worker.duplicates <= w.worker.retried)
}
if (results.start) {
  const s = results.start
  row('start → /readyz 200, PostgreSQL ms (median)', round(s.postgresMedianMs), round(s.referenceMedianMs), s.postgresMedianMs / s.referenceMedianMs, '≤ 1000 ms', s.postgresMedianMs <= 1000)
  row('start → /readyz 200, embedded ms: first / restart', `${round(s.embeddedFirstMs)} / ${round(s.embeddedMedianMs)}`, '', undefined, '', undefined)
}

if (results.search) {
  const s = results.search
  row(`search ${s.rows / 1e6}M: ${s.searches} searches, p50 / p95 ms`, `${round(s.p50, 1)} / ${round(s.p95, 1)}`, `${round(s.refP50, 1)} / ${round(s.refP95, 1)}`, s.p95 / s.refP95, 'p95 ≤ 50 ms', s.p95 <= 50)
  for (const k of s.kinds) row(`  ${k.kind} (${k.n}): p50 / p95 / max ms`, `${round(k.p50, 1)} / ${round(k.p95, 1)} / ${round(k.max, 1)}`, '', undefined, '', undefined)
}
for (const name of results.failed ?? []) row(`${name}: FAILED (see the log above)`, '', '', undefined, '', false)

const head = ['', 'Joinlist', 'reference', 'ratio', 'target', 'met']
const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => String(r[i]).length)))
const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`
const load = (l) => l.map((x) => x.toFixed(1)).join(' ')
console.log(`\nJoinlist bench, ${results.date.slice(0, 16).replace('T', ' ')} UTC, ${results.cpus} × ${results.cpuModel}, Node ${results.node}, ${results.totalSeconds} s,` +
  ` load average ${load(results.loadAverageAtStart)} → ${load(results.loadAverageAtEnd)}`)
console.log(line(head))
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
for (const r of table) console.log(line(r))
if (results.signup?.analyzed) console.log('(sign-up: autovacuum is off on this PostgreSQL server; the bench ran ANALYZE after the warm-up and each round, as autovacuum would)')
results.table = table
writeFileSync(`${root}bench/results.json`, JSON.stringify(results, null, 2) + '\n')
log('wrote bench/results.json')
