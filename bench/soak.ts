// Soak test: a real `node dist/server.js` on its own database and a real SMTP sink, fed mixed traffic at a
// steady rate (sign-ups, confirmations from the mails, unsubscribes, exports) for a bounded time, sampling the
// server's RSS, heap, open handles and file descriptors from GET /metrics. Prints the samples and the trend.
// Run: `npm run soak` (10 minutes), or `SOAK_MINUTES=3 SOAK_RATE=10 npm run soak`. Needs PostgreSQL (DATABASE_URL,
// default postgres://root@127.0.0.1:5432/test): the soak creates and drops a database of its own there.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { SMTPServer } from 'smtp-server'
import { simpleParser } from 'mailparser'

const minutes = Number(process.env.SOAK_MINUTES ?? 10)
const rate = Number(process.env.SOAK_RATE ?? 10)
const sampleEverySeconds = Number(process.env.SOAK_SAMPLE_SECONDS ?? 15)
const adminUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test'
if (!(minutes > 0 && minutes <= 60) || !(rate > 0 && rate <= 200)) {
  throw new Error('SOAK_MINUTES must be in (0, 60] and SOAK_RATE (sign-ups per second) in (0, 200]')
}
const PUBLIC_URL = 'https://soak.example.org'
const ADMIN_TOKEN = randomBytes(24).toString('base64url')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const counts = { signups: 0, confirms: 0, unsubscribes: 0, exports: 0, mails: 0, errors: 0, byStatus: {} as Record<string, number> }
const pendingLinks: string[] = []
const unsubscribeLinks: string[] = []

async function main () {
  const name = `joinlist_soak_${randomBytes(4).toString('hex')}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`CREATE DATABASE ${name}`)
  const dbUrl = new URL(adminUrl)
  dbUrl.pathname = `/${name}`

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    async onData (stream, _session, callback) {
      const mail = await simpleParser(stream)
      counts.mails++
      const text = mail.text ?? ''
      const confirm = /https:\/\/soak\.example\.org(\/confirm\/[^\s<>"]+)/.exec(text)
      const unsubscribe = /https:\/\/soak\.example\.org(\/unsubscribe\/[^\s<>"]+)/.exec(text)
      if (confirm) pendingLinks.push(confirm[1])
      else if (unsubscribe) unsubscribeLinks.push(unsubscribe[1])
      callback()
    }
  })
  smtp.on('error', () => {})
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()))
  const smtpPort = (smtp.server.address() as AddressInfo).port

  const server = spawn(process.execPath, [fileURLToPath(new URL('../dist/server.js', import.meta.url))], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      DATABASE_URL: dbUrl.toString(),
      TOKEN_SECRET: randomBytes(32).toString('base64url'),
      ADMIN_TOKEN,
      PUBLIC_URL,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      LOG_LEVEL: 'info',
      // The soak comes from one address: it measures the service, not the per-IP limit.
      RATE_LIMIT_SUBSCRIBE_MAX: '100000',
      RATE_LIMIT_TOKEN_MAX: '100000'
    },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  // The log is read only for the listening line, then discarded (as a log shipper would take it away).
  const base = await new Promise<string>((resolve, reject) => {
    let buffered = ''
    const onData = (d: Buffer) => {
      buffered += String(d)
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(buffered)
      if (m) resolve(m[1])
      if (buffered.length > 100_000) buffered = buffered.slice(-1000)
    }
    server.stdout!.on('data', onData)
    server.once('exit', (code) => reject(new Error(`the server exited ${code} before listening`)))
  })
  server.stdout!.resume()

  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
  const request = async (path: string, init: RequestInit = {}) => {
    try {
      const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(30_000) })
      await res.arrayBuffer()
      counts.byStatus[res.status] = (counts.byStatus[res.status] ?? 0) + 1
      if (res.status >= 500) counts.errors++
      return res.status
    } catch {
      counts.errors++
      return 0
    }
  }

  const samples: Array<{ t: number, rssMb: number, heapMb: number, handles: number, fds: number, backlog: number }> = []
  const sample = async (t: number) => {
    const res = await fetch(`${base}/metrics`, { headers: auth })
    const text = await res.text()
    const metric = (m: string) => Number(new RegExp(`^${m}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(text)?.[1] ?? NaN)
    const s = {
      t,
      rssMb: +(metric('process_resident_memory_bytes') / 1048576).toFixed(1),
      heapMb: +(metric('nodejs_heap_size_used_bytes') / 1048576).toFixed(1),
      handles: metric('nodejs_active_handles_total'),
      fds: metric('process_open_fds'),
      backlog: metric('joinlist_outbox_backlog')
    }
    samples.push(s)
    console.log(`${String(t).padStart(5)} s  rss ${s.rssMb} MB  heap ${s.heapMb} MB  handles ${s.handles}  fds ${s.fds}  backlog ${s.backlog}  ` +
      `signups ${counts.signups} confirms ${counts.confirms} unsubscribes ${counts.unsubscribes} exports ${counts.exports} mails ${counts.mails} errors ${counts.errors}`)
  }

  const start = Date.now()
  const end = start + minutes * 60_000
  let nextSample = start
  let nextExport = start + 30_000
  let i = 0
  const inflight = new Set<Promise<unknown>>()
  const fire = (p: Promise<unknown>) => { inflight.add(p); p.finally(() => inflight.delete(p)).catch(() => {}) }
  console.log(`soak: ${minutes} min at ${rate} sign-ups/s (plus confirms, unsubscribes and an export every 30 s) against ${base}`)
  while (Date.now() < end) {
    const now = Date.now()
    if (now >= nextSample) { await sample(Math.round((now - start) / 1000)); nextSample += sampleEverySeconds * 1000 }
    if (now >= nextExport) {
      nextExport += 30_000
      fire(request('/admin/subscribers.csv?status=all', { headers: auth }).then(() => counts.exports++))
    }
    // One tick: a sign-up; most confirmation links get followed, a few welcome mails lead to an unsubscribe.
    fire(request('/subscribe', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `soak-${i++}-${randomBytes(3).toString('hex')}@example.org` })
    }).then(() => counts.signups++))
    const confirm = pendingLinks.shift()
    if (confirm && Math.random() < 0.8) fire(request(confirm, { method: 'POST' }).then(() => counts.confirms++))
    const leave = unsubscribeLinks.shift()
    if (leave && Math.random() < 0.3) fire(request(leave, { method: 'POST' }).then(() => counts.unsubscribes++))
    if (inflight.size > rate * 30) await Promise.race(inflight)
    await sleep(Math.max(0, 1000 / rate - (Date.now() - now)))
  }
  await Promise.all(inflight)
  await sleep(3000)
  await sample(Math.round((Date.now() - start) / 1000))

  server.kill('SIGTERM')
  const exitCode = await new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)))
  smtp.close()
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.end()
  report(samples, exitCode)
}

/** The trend: the mean of the last third of the samples against the second third (the first third is warm-up). */
function report (samples: Array<Record<string, number>>, exitCode: number | null) {
  const third = Math.max(1, Math.floor(samples.length / 3))
  const mean = (xs: Array<Record<string, number>>, k: string) => xs.reduce((a, s) => a + s[k], 0) / xs.length
  const middle = samples.slice(third, 2 * third)
  const last = samples.slice(-third)
  const trend = Object.fromEntries(['rssMb', 'heapMb', 'handles', 'fds'].map((k) => {
    const a = mean(middle.length ? middle : samples, k)
    const b = mean(last, k)
    return [k, { middle: +a.toFixed(1), last: +b.toFixed(1), change: `${(((b - a) / a) * 100).toFixed(1)}%` }]
  }))
  console.log('\nsummary', JSON.stringify({ minutes, rate, ...counts, exitCode, trend }, null, 2))
}

main().catch((err) => { console.error(err); process.exit(1) })
