// Fault-drill harness: real `node dist/server.js` processes, a database of their own on the shared PostgreSQL, a
// real SMTP server that can be slowed, refused or switched off, and a TCP proxy in front of PostgreSQL that can be
// cut (a database restart, without touching the shared server). Run with `npm run test:faults` (builds first).
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import net, { type AddressInfo } from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server'

export const ADMIN_TOKEN = 'staff-secret-for-drills-0123456789abcdef'
export const TOKEN_SECRET = 'token-secret-for-drills-0123456789abcdef'
export const PUBLIC_URL = 'https://news.example.org'
export const staff = { authorization: `Bearer ${ADMIN_TOKEN}` }
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test'
const SERVER_JS = fileURLToPath(new URL('../dist/server.js', import.meta.url))

interface Tap { teardown(fn: () => unknown): void, comment(...args: unknown[]): void }

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function waitUntil (check: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > end) throw new Error(`timed out waiting: ${what()}`)
    await sleep(100)
  }
}

/** An empty database of this drill's own on the shared server, dropped (with its connections) at teardown. */
export async function drillDatabase (t: Tap): Promise<{ name: string, url: string, sql: postgres.Sql, urlVia(port: number): string }> {
  const name = `joinlist_fault_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} })
  await admin.unsafe(`CREATE DATABASE ${name}`)
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  const sql = postgres(url.toString(), { max: 2, onnotice: () => {}, connection: { application_name: 'joinlist_drill' } })
  t.teardown(async () => {
    await sql.end({ timeout: 2 })
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  })
  const urlVia = (port: number) => { const u = new URL(url); u.port = String(port); return u.toString() }
  return { name, url: url.toString(), sql, urlVia }
}

/** A TCP proxy to PostgreSQL. cut() drops every connection and stops listening, as a restarting server would. */
export async function dbProxy (t: Tap) {
  const target = new URL(ADMIN_URL)
  const sockets = new Set<net.Socket>()
  let server: net.Server | undefined
  let port = 0
  const listen = async () => {
    server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname)
      for (const s of [client, upstream]) { sockets.add(s); s.once('close', () => sockets.delete(s)); s.on('error', () => {}) }
      client.pipe(upstream).pipe(client)
      client.once('close', () => upstream.destroy())
      upstream.once('close', () => client.destroy())
    })
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', () => resolve()))
    port = (server.address() as AddressInfo).port
  }
  const cut = async () => {
    const closing = new Promise<void>((resolve) => server ? server.close(() => resolve()) : resolve())
    for (const s of sockets) s.destroy()
    await closing
    server = undefined
  }
  await listen()
  t.teardown(cut)
  return { get port () { return port }, cut, restore: listen }
}

export interface Delivered { to: string, messageId: string, subject: string }

export interface SinkOptions {
  /** Milliseconds the sink takes over each message before answering. */
  delayMs?: number
  /** A reply code for a recipient (e.g. 550 for a permanent refusal), or undefined to accept. */
  refuse?: (to: string, attempt: number) => number | undefined
}

/** A real SMTP server on a fixed port once started; stop() makes it unreachable, start() brings it back. */
export async function smtpSink (t: Tap, opts: SinkOptions = {}) {
  const mails: Delivered[] = []
  const attempts = new Map<string, number>()
  const refusals: Array<{ to: string, code: number }> = []
  let server: SMTPServer | undefined
  let port = 0
  const start = async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      closeTimeout: 50,
      async onData (stream: SMTPServerDataStream, session, callback) {
        const chunks: Buffer[] = []
        try {
          for await (const c of stream) chunks.push(c as Buffer)
        } catch (err) {
          // The client died mid-message (kill -9): nothing was delivered.
          return callback(err as Error)
        }
        const raw = Buffer.concat(chunks).toString('utf8')
        const to = session.envelope.rcptTo.map((r) => r.address)[0] ?? ''
        const attempt = (attempts.get(to) ?? 0) + 1
        attempts.set(to, attempt)
        if (opts.delayMs) await sleep(opts.delayMs)
        const code = opts.refuse?.(to, attempt)
        if (code) {
          refusals.push({ to, code })
          return callback(Object.assign(new Error(`drill sink refuses with ${code}`), { responseCode: code }))
        }
        const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(raw.split(/\r?\n\r?\n/)[0])?.[1]?.trim() ?? ''
        // Accepted here: like a real MTA, the mail counts as delivered even if the client vanishes before our 250.
        mails.push({ to, messageId: header('Message-ID'), subject: header('Subject') })
        callback()
      }
    })
    // A client killed mid-session resets its connection: expected in these drills, not a failure of the sink.
    server.on('error', () => {})
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', () => resolve()))
    port = (server.server.address() as AddressInfo).port
  }
  const stop = async () => {
    const s = server
    server = undefined
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
  }
  await start()
  t.teardown(stop)
  return { mails, refusals, attempts, get url () { return `smtp://127.0.0.1:${port}` }, start, stop, opts }
}
export type Sink = Awaited<ReturnType<typeof smtpSink>>

export interface ServerProc {
  name: string
  url: string
  proc: ChildProcess
  /** Parsed JSON log lines. */
  logs: Array<Record<string, unknown>>
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  alive(): boolean
  stderr(): string
}

/** Starts `node dist/server.js` on a random port; resolves once it listens. Killed at teardown if still running. */
export async function startServer (t: Tap, name: string, env: Record<string, string>): Promise<ServerProc> {
  const proc = spawn(process.execPath, [SERVER_JS], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      PUBLIC_URL,
      ADMIN_TOKEN,
      TOKEN_SECRET,
      LIST_NAME: 'Drill Notes',
      MAIL_FROM: 'Drill Notes <news@mail.example.org>',
      LOG_LEVEL: 'info',
      WORKER_POLL_MS: '200',
      OUTBOX_RETRY_BASE_MS: '500',
      OUTBOX_RETRY_MAX_MS: '4000',
      // Every drill request comes from 127.0.0.1: the per-IP limits would throttle the load itself.
      RATE_LIMIT_SUBSCRIBE_MAX: '100000',
      RATE_LIMIT_TOKEN_MAX: '100000',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let exitedFlag = false
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => { exitedFlag = true; resolve({ code, signal }) })
  })
  const logs: Array<Record<string, unknown>> = []
  let stderr = ''
  proc.stderr!.on('data', (d) => { stderr += String(d) })
  let buffered = ''
  let onListen: (url: string) => void
  const listening = new Promise<string>((resolve) => { onListen = resolve })
  proc.stdout!.on('data', (d) => {
    buffered += String(d)
    const lines = buffered.split('\n')
    buffered = lines.pop()!
    for (const line of lines) {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>
        logs.push(entry)
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(String(entry.msg))
        if (m) onListen(m[1])
      } catch { /* not JSON */ }
    }
  })
  let killedByUs = false
  t.teardown(async () => {
    if (!exitedFlag) { killedByUs = true; proc.kill('SIGKILL'); await exited }
    const { code, signal } = await exited
    // A server that died on its own (a crash, not our kill or SIGTERM): show why in the test output.
    if (!killedByUs && code !== 0 && signal !== 'SIGKILL') t.comment(`${name} exited ${code ?? signal}: ${stderr.slice(-2000)}`)
    // DRILL_LOGS=dir keeps each server's log, to see what happened in a failed drill.
    if (process.env.DRILL_LOGS) {
      writeFileSync(join(process.env.DRILL_LOGS, `${name}-${proc.pid}.log`), logs.map((l) => JSON.stringify(l)).join('\n') + '\n' + stderr)
    }
  })
  const url = await Promise.race([
    listening,
    exited.then(({ code }) => { throw new Error(`${name} exited ${code} before listening: ${stderr}`) }),
    new Promise<never>((_resolve, reject) => {
      setTimeout(() => reject(new Error(`${name} did not start within 60 s: ${stderr}`)), 60_000).unref()
    })
  ])
  return { name, url, proc, logs, exited, alive: () => !exitedFlag, stderr: () => stderr }
}

/** POST /subscribe as JSON; the status code, or 0 if the request itself failed (refused, reset, timed out). */
export async function signup (base: string, email: string, timeoutMs = 15_000): Promise<number> {
  try {
    const res = await fetch(`${base}/subscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ email }),
      signal: AbortSignal.timeout(timeoutMs)
    })
    await res.arrayBuffer()
    return res.status
  } catch {
    return 0
  }
}

/** Runs fn over items with at most `concurrency` at a time. */
export async function pool<T, R> (items: T[], concurrency: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) { const i = next++; results[i] = await fn(items[i], i) }
  }))
  return results
}

export interface OutboxState { pending: number, sending: number, sent: number, dead: number, cancelled: number }

export async function outboxState (sql: postgres.Sql): Promise<OutboxState> {
  const rows = await sql<{ status: keyof OutboxState, n: number }[]>`SELECT status::text AS status, count(*)::int AS n FROM outbox GROUP BY status`
  const state: OutboxState = { pending: 0, sending: 0, sent: 0, dead: 0, cancelled: 0 }
  for (const r of rows) state[r.status] = r.n
  return state
}

/**
 * The drills' verdict: every accepted address got its confirmation mail, exactly once — except at-least-once
 * redeliveries, allowed only when they repeat the same Message-ID. Returns the number of such duplicates.
 */
export function checkDelivery (t: Tap & { equal: Function, same: Function, ok: Function }, accepted: string[], sink: Sink,
  /** Addresses whose request failed (503) but may have committed just before the connection died: mail is allowed. */
  mayHaveMail: string[] = []): number {
  const byAddress = new Map<string, Delivered[]>()
  for (const m of sink.mails) byAddress.set(m.to, [...(byAddress.get(m.to) ?? []), m])
  const missing = accepted.filter((a) => !byAddress.has(a))
  const distinctIds = accepted.filter((a) => new Set((byAddress.get(a) ?? []).map((m) => m.messageId)).size > 1)
  const unexpected = [...byAddress.keys()].filter((a) => !accepted.includes(a) && !mayHaveMail.includes(a))
  const extra = [...byAddress.keys()].filter((a) => mayHaveMail.includes(a))
  if (extra.length) t.comment(`${extra.length} sign-ups answered 503 had committed anyway and got their mail`)
  const duplicates = accepted.reduce((n, a) => n + Math.max(0, (byAddress.get(a)?.length ?? 0) - 1), 0)
  t.same(missing, [], `every one of the ${accepted.length} accepted sign-ups got its confirmation mail`)
  t.same(distinctIds, [], 'no address got two different confirmation mails')
  t.same(unexpected, [], 'no mail went to an address that was not accepted')
  t.ok(sink.mails.every((m) => /confirm/i.test(m.subject)), 'every mail is a confirmation mail')
  t.comment(`delivered ${sink.mails.length} mails for ${accepted.length} sign-ups; at-least-once redeliveries (same Message-ID): ${duplicates}`)
  return duplicates
}
