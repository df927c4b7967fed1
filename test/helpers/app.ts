// The app as the tests build it: a plain config object, a test clock, a real SMTP sink in the test process and a
// database of the test's own (see database.ts), all torn down with the test; plus request shapes for inject().
import type { FastifyInstance, FastifyServerOptions, InjectOptions } from 'fastify'
import type { Test } from 'tap'
import { buildApp, type AppConfig } from '../../src/app.js'
import { loadConfig, type Env } from '../../src/config.js'
import type { Database } from '../../src/db/client.js'
import { smtpMailer } from '../../src/mail/transport.js'
import { testDatabase } from './database.js'
import { startSmtp, type SmtpSink } from './smtp.js'

export const ADMIN_TOKEN = 'staff-secret-for-tests-0123456789abcdef'
export const TOKEN_SECRET = 'token-secret-for-tests-0123456789abcdef'
export const PUBLIC_URL = 'https://news.example.org'

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
    // The retention timer would race tests that move the clock; test/domain/retention.test.ts turns it on.
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

export interface TestAppOptions {
  /** An open, migrated database to use (e.g. one shared by two instances) instead of a fresh one. */
  database?: Database
  /** Where log lines go; none by default. */
  logger?: FastifyServerOptions['logger']
}

/** The app over a fresh database and a real SMTP sink; closed at teardown. */
export async function buildTestApp (t: Pick<Test, 'teardown'>, env: Env = {}, opts: TestAppOptions = {}): Promise<TestApp> {
  const smtp = await startSmtp(t)
  const database = opts.database ?? (await testDatabase(t)).database
  const config = testConfig({ SMTP_URL: smtp.url, ...env })
  const clock = testClock()
  const app = await buildApp(config, { database, now: clock.now, mailer: smtpMailer(smtp.url, 2), logger: opts.logger ?? false })
  await app.ready()
  t.teardown(() => app.close())
  return { app, smtp, database, clock, config }
}

export const json = (payload: object): Pick<InjectOptions, 'payload' | 'headers'> =>
  ({ payload: JSON.stringify(payload), headers: { 'content-type': 'application/json', accept: 'application/json' } })

export const form = (fields: Record<string, string>): Pick<InjectOptions, 'payload' | 'headers'> =>
  ({ payload: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } })

export const staff = { authorization: `Bearer ${ADMIN_TOKEN}` }
