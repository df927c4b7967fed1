// Test helper for the abuse tests: the app as in helper.ts, but with its pino log lines captured in memory.
import { Writable } from 'node:stream'
import { buildApp } from '../../src/app.js'
import type { Env } from '../../src/config.js'
import type { Database } from '../../src/db/client.js'
import { smtpMailer } from '../../src/mail/transport.js'
import { startSmtp, testClock, testConfig, testDatabase, type TestApp } from './app.js'

interface Tap { teardown(fn: () => unknown): void }

export interface LoggedApp extends TestApp {
  /** Every log line written so far, raw (as it would reach a log collector). */
  logText(): string
  logLines(): Record<string, unknown>[]
}

export async function buildLoggedApp (t: Tap, env: Env = {}, opts: { database?: Database } = {}): Promise<LoggedApp> {
  const smtp = await startSmtp(t)
  const database = opts.database ?? (await testDatabase(t)).database
  const config = testConfig({ SMTP_URL: smtp.url, LOG_LEVEL: 'info', ...env })
  const clock = testClock()
  const chunks: string[] = []
  const stream = new Writable({ write (chunk, _enc, done) { chunks.push(String(chunk)); done() } })
  const app = await buildApp(config, { database, now: clock.now, mailer: smtpMailer(smtp.url, 2), logger: { level: 'info', stream } })
  await app.ready()
  t.teardown(() => app.close())
  const logText = () => chunks.join('')
  const logLines = () => logText().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  return { app, smtp, database, clock, config, logText, logLines }
}
