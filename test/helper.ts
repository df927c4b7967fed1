// Test helpers: a real SMTP server in the test process, a real database per test file (PostgreSQL when
// DATABASE_URL is set, else embedded PGlite in memory), and the app built over both.
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import postgres from 'postgres'
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server'
import { simpleParser, type ParsedMail } from 'mailparser'
import { parse } from 'csv-parse/sync'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { buildApp, type AppConfig } from '../src/app.js'
import { loadConfig, type Env } from '../src/config.js'
import { migrate, migrationsFolder, openDatabase, type Database } from '../src/db/client.js'
import { smtpMailer } from '../src/mail/transport.js'

export const ADMIN_TOKEN = 'staff-secret-for-tests-0123456789abcdef'
export const TOKEN_SECRET = 'token-secret-for-tests-0123456789abcdef'
export const PUBLIC_URL = 'https://news.example.org'

interface Tap { teardown(fn: () => unknown): void }

export interface ReceivedMail {
  parsed: ParsedMail
  raw: string
  envelope: { from: string, to: string[] }
}

export interface SmtpSink {
  port: number
  url: string
  mails: ReceivedMail[]
  /** Resolves once at least n mails arrived (or rejects after timeoutMs). */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedMail[]>
  /** While set, every message gets this SMTP reply code (e.g. 451 or 550). */
  failWith: number | undefined
  /** Reply codes for the next messages, one each (e.g. [451, 451]); then messages are accepted again. */
  failNext: number[]
  /** While set, refusals carry this reply text (e.g. `5.1.1 <jane@example.org>: Recipient address rejected`). */
  failText: string | undefined
  /** Every message the sink refused, with the code it got. */
  refused: Array<{ messageId: string, code: number }>
  /** Every AUTH a client sent (the sink accepts any credentials, also without TLS). */
  auths: Array<{ username?: string, password?: string }>
  close(): Promise<void>
}

export async function startSmtp (t: Tap, port = 0): Promise<SmtpSink> {
  const sink: SmtpSink = {
    port: 0,
    url: '',
    mails: [],
    failWith: undefined,
    failNext: [],
    failText: undefined,
    refused: [],
    auths: [],
    waitFor: (n, timeoutMs = 10_000) => waitUntil(() => sink.mails.length >= n, timeoutMs,
      () => `expected ${n} mails, got ${sink.mails.length}`).then(() => sink.mails),
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth (auth, _session, callback) {
      sink.auths.push({ username: auth.username, password: auth.password ?? undefined })
      callback(null, { user: auth.username })
    },
    async onData (stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = []
      for await (const c of stream) chunks.push(c as Buffer)
      const raw = Buffer.concat(chunks).toString('utf8')
      const code = sink.failWith ?? sink.failNext.shift()
      if (code) {
        sink.refused.push({ messageId: /^Message-ID:\s*(<[^>]+>)/im.exec(raw)?.[1] ?? '', code })
        const err = Object.assign(new Error(sink.failText ?? `test sink refuses with ${code}`), { responseCode: code })
        return callback(err)
      }
      sink.mails.push({
        raw,
        parsed: await simpleParser(raw),
        envelope: {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address)
        }
      })
      callback()
    }
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()))
  sink.port = (server.server.address() as AddressInfo).port
  sink.url = `smtp://127.0.0.1:${sink.port}`
  t.teardown(() => sink.close())
  return sink
}

export async function waitUntil (check: () => boolean | Promise<boolean>, timeoutMs = 10_000,
  describe: () => string = () => 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > end) throw new Error(`timed out waiting: ${describe()}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

// Creating and migrating an embedded database takes seconds; copying a migrated one takes a fraction of that,
// so each test process migrates once and every test starts from a copy.
let pgliteTemplate: Promise<Blob> | undefined
function migratedPglite (): Promise<Blob> {
  pgliteTemplate ??= (async () => {
    const { PGlite } = await import('@electric-sql/pglite')
    const { drizzle } = await import('drizzle-orm/pglite')
    const { migrate: run } = await import('drizzle-orm/pglite/migrator')
    const pg = await PGlite.create()
    await run(drizzle(pg), { migrationsFolder })
    const dump = await pg.dumpDataDir('none')
    await pg.close()
    return dump
  })()
  return pgliteTemplate
}

/** A fresh, migrated database for one test file, dropped at teardown. */
export async function testDatabase (t: Tap): Promise<{ database: Database, url?: string }> {
  const adminUrl = process.env.DATABASE_URL
  if (!adminUrl) {
    const database = await openDatabase({ inMemory: true, loadDataDir: await migratedPglite() })
    t.teardown(() => database.close())
    return { database }
  }
  const name = `joinlist_test_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`CREATE DATABASE ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  await migrate({ databaseUrl: url.toString() })
  const database = await openDatabase({ databaseUrl: url.toString(), poolSize: 5 })
  t.teardown(async () => {
    await database.close()
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  })
  return { database, url: url.toString() }
}

export function testConfig (env: Env = {}): AppConfig {
  const config = loadConfig({
    PUBLIC_URL,
    ADMIN_TOKEN,
    TOKEN_SECRET,
    LIST_NAME: 'Policy Notes',
    MAIL_FROM: 'Policy Notes <news@mail.example.org>',
    LOG_LEVEL: 'silent',
    WORKER_POLL_MS: '50',
    OUTBOX_RETRY_BASE_MS: '50',
    OUTBOX_RETRY_MAX_MS: '200',
    // The retention timer would race tests that move the clock; test/retention.test.ts turns it on.
    PURGE_INTERVAL_MINUTES: '0',
    ...env
  })
  return { ...config, tokenSecret: config.tokenSecret! }
}

export interface Clock { now: () => Date, advance(ms: number): void }

/** Real time plus an offset the test can move forward (expiry, cooldowns). */
export function testClock (): Clock {
  let offset = 0
  return { now: () => new Date(Date.now() + offset), advance: (ms) => { offset += ms } }
}

export interface TestApp {
  app: FastifyInstance
  smtp: SmtpSink
  database: Database
  clock: Clock
  config: AppConfig
}

/** The app over a fresh database and a real SMTP sink; closed at teardown. */
export async function buildTestApp (t: Tap, env: Env = {}, opts: { database?: Database } = {}): Promise<TestApp> {
  const smtp = await startSmtp(t)
  const database = opts.database ?? (await testDatabase(t)).database
  const config = testConfig({ SMTP_URL: smtp.url, ...env })
  const clock = testClock()
  const app = await buildApp(config, { database, now: clock.now, mailer: smtpMailer(smtp.url, 2), logger: false })
  await app.ready()
  t.teardown(() => app.close())
  return { app, smtp, database, clock, config }
}

export const json = (payload: object): Pick<InjectOptions, 'payload' | 'headers'> =>
  ({ payload: JSON.stringify(payload), headers: { 'content-type': 'application/json', accept: 'application/json' } })

export const form = (fields: Record<string, string>): Pick<InjectOptions, 'payload' | 'headers'> =>
  ({ payload: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } })

export const staff = { authorization: `Bearer ${ADMIN_TOKEN}` }

/** The first link in a mail's text part that starts with base/path. */
export function linkIn (mail: ReceivedMail, path: string): string {
  const m = new RegExp(`${PUBLIC_URL.replace(/[.]/g, '\\.')}${path}[^\\s<>"]+`).exec(mail.parsed.text ?? '')
  if (!m) throw new Error(`no ${path} link in mail: ${mail.parsed.text}`)
  return m[0]
}

export const pathOf = (url: string) => new URL(url).pathname

/** CSV rows as objects keyed by the header row (csv-parse, strict RFC 4180). */
export function csvRecords (text: string): Record<string, string>[] {
  return parse(text, { columns: true, skip_empty_lines: true })
}
