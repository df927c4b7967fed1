// Fault-drill harness: real `node dist/server.js` processes, a database of their own on the shared PostgreSQL, the
// tests' SMTP sink (test/helpers/smtp.ts, here slowed, refusing or switched off) and the tests' TCP proxy in front of
// PostgreSQL, which can be cut (a database restart, without touching the shared server). Run with
// `npm run test:faults` (builds first).
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import type { Test } from 'tap'
import { ADMIN_TOKEN, PUBLIC_URL, TOKEN_SECRET } from '../test/helpers/app.js'
import { createDatabase } from '../test/helpers/database.js'
import type { SmtpSink } from '../test/helpers/smtp.js'

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test'
const SERVER_JS = fileURLToPath(new URL('../dist/server.js', import.meta.url))

type Tap = Pick<Test, 'teardown' | 'comment'>

/** For the drills whose fault is the passing of time itself (an outage of a given length, a pace of kills). */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * An empty database of this drill's own on the shared server (the servers under test migrate it themselves), with
 * a small client on it for the drill's own queries; dropped with its connections at teardown.
 */
export async function drillDatabase (t: Tap): Promise<{ name: string, url: string, sql: postgres.Sql }> {
  const { name, url } = await createDatabase(t, SERVER_URL, { prefix: 'joinlist_fault' })
  const sql = postgres(url, { max: 2, onnotice: () => {}, connection: { application_name: 'joinlist_drill' } })
  t.teardown(() => sql.end({ timeout: 2 }))
  return { name, url, sql }
}

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
export function checkDelivery (t: Pick<Test, 'comment' | 'same' | 'ok'>, accepted: string[], sink: SmtpSink,
  /** Addresses whose request failed (503) but may have committed just before the connection died: mail is allowed. */
  mayHaveMail: string[] = []): number {
  const byAddress = new Map<string, Array<{ messageId: string }>>()
  for (const m of sink.mails) {
    const to = m.envelope.to[0]
    byAddress.set(to, [...(byAddress.get(to) ?? []), { messageId: m.parsed.messageId ?? '' }])
  }
  const missing = accepted.filter((a) => !byAddress.has(a))
  const distinctIds = accepted.filter((a) => new Set((byAddress.get(a) ?? []).map((m) => m.messageId)).size > 1)
  const unexpected = [...byAddress.keys()].filter((a) => !accepted.includes(a) && !mayHaveMail.includes(a))
  const extra = [...byAddress.keys()].filter((a) => mayHaveMail.includes(a))
  if (extra.length) t.comment(`${extra.length} sign-ups answered 503 had committed anyway and got their mail`)
  const duplicates = accepted.reduce((n, a) => n + Math.max(0, (byAddress.get(a)?.length ?? 0) - 1), 0)
  t.same(missing, [], `every one of the ${accepted.length} accepted sign-ups got its confirmation mail`)
  t.same(distinctIds, [], 'no address got two different confirmation mails')
  t.same(unexpected, [], 'no mail went to an address that was not accepted')
  t.ok(sink.mails.every((m) => /confirm/i.test(m.parsed.subject ?? '')), 'every mail is a confirmation mail')
  t.comment(`delivered ${sink.mails.length} mails for ${accepted.length} sign-ups; at-least-once redeliveries (same Message-ID): ${duplicates}`)
  return duplicates
}
