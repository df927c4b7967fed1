// The app's log lines captured in memory, to assert on what reaches a log collector (and what must never).
import { Writable } from 'node:stream'
import type { Test } from 'tap'
import type { Env } from '../../src/config.js'
import { buildTestApp, type TestApp, type TestAppOptions } from './app.js'

export interface LogCapture {
  /** The stream to hand to the app's logger. */
  stream: Writable
  /** Every log line written so far, raw (as it would reach a log collector). */
  logText(): string
  logLines(): Record<string, unknown>[]
}

export function captureLogs (): LogCapture {
  const chunks: string[] = []
  const stream = new Writable({ write (chunk, _enc, done) { chunks.push(String(chunk)); done() } })
  const logText = () => chunks.join('')
  const logLines = () => logText().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  return { stream, logText, logLines }
}

export type LoggedApp = TestApp & Omit<LogCapture, 'stream'>

/** buildTestApp with its info-level log lines captured. */
export async function buildLoggedApp (t: Pick<Test, 'teardown'>, env: Env = {}, opts: Omit<TestAppOptions, 'logger'> = {}): Promise<LoggedApp> {
  const { stream, logText, logLines } = captureLogs()
  const ta = await buildTestApp(t, { LOG_LEVEL: 'info', ...env }, { ...opts, logger: { level: 'info', stream } })
  return { ...ta, logText, logLines }
}
