// The zero-services mode a newcomer gets from `npm install && npm start`: embedded PostgreSQL (PGlite) in DATA_DIR
// and a local mailbox of .eml files, with nothing injected by the tests.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { simpleParser, type ParsedMail } from 'mailparser'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig, resolveTokenSecret } from '../src/config.js'
import { ADMIN_TOKEN } from './helpers/app.js'
import { waitUntil } from './helpers/wait.js'
import { csvRecords } from './helpers/flow.js'
import { ensureBuilt, freePort } from './helpers/process.js'

const dataDir = mkdtempSync(join(tmpdir(), 'joinlist-embedded-'))
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
const mailDir = join(dataDir, 'mail')

/** The app exactly as src/server.ts builds it, from the environment alone. */
async function embeddedApp (): Promise<FastifyInstance> {
  const config = loadConfig({ DATA_DIR: dataDir, ADMIN_TOKEN, LOG_LEVEL: 'silent' })
  const app = await buildApp({ ...config, tokenSecret: resolveTokenSecret(config) })
  await app.ready()
  return app
}

/** Waits for the n-th .eml file in the local mailbox and parses it. */
async function nthMail (dir: string, n: number): Promise<ParsedMail> {
  const files = () => existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.eml')).sort() : []
  await waitUntil(() => files().length >= n, 20_000, () => `${n} .eml files in ${dir}, found ${files().length}`)
  const [file] = files().map((f) => join(dir, f)).filter((f) => !seen.has(f))
  seen.add(file)
  return simpleParser(readFileSync(file))
}
const seen = new Set<string>()

const exportOf = async (app: FastifyInstance) =>
  csvRecords((await app.inject({ url: '/admin/subscribers.csv?status=all', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body)

let unsubscribeUrl = ''

t.test('embedded mode end to end: sign up, read the .eml, follow its link, confirm', async (t) => {
  const app = await embeddedApp()
  t.teardown(() => app.close())
  t.equal(app.database.kind, 'pglite', 'no DATABASE_URL: the embedded database')
  t.equal(app.mailer.kind, 'mailbox', 'no SMTP_URL: the local mailbox')
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
  t.match((await app.inject({ url: '/', headers: { accept: 'text/html' } })).body, /<h1>Sign up for emails<\/h1>[\s\S]*<span>Mailing list<\/span>|<span>Mailing list<\/span>[\s\S]*<h1>Sign up for emails<\/h1>/)

  const signup = await app.inject({ method: 'POST', url: '/subscribe', payload: new URLSearchParams({ email: 'newcomer@example.org', name: 'New Comer' }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } })
  t.equal(signup.statusCode, 303)

  const confirmation = await nthMail(mailDir, 1)
  t.match(confirmation.subject, /Confirm your subscription to Mailing list/)
  t.match(confirmation.to, { text: /newcomer@example\.org/ })
  const confirmUrl = /http:\/\/localhost:3000(\/confirm\/[A-Za-z0-9_-]+)/.exec(confirmation.text ?? '')
  t.ok(confirmUrl, 'the confirmation link, on the default PUBLIC_URL')
  const path = confirmUrl![1]

  t.equal((await app.inject({ url: path, headers: { accept: 'text/html' } })).statusCode, 200)
  t.equal((await exportOf(app))[0].status, 'pending', 'opening the link changes nothing')
  const confirmed = await app.inject({ method: 'POST', url: path, headers: { accept: 'application/json' } })
  t.same(confirmed.json(), { status: 'confirmed', alreadyConfirmed: false })
  t.match((await exportOf(app))[0], { email: 'newcomer@example.org', name: 'New Comer', status: 'confirmed' })

  const welcome = await nthMail(mailDir, 2)
  t.match(welcome.subject, /Welcome/)
  unsubscribeUrl = /(http:\/\/localhost:3000\/unsubscribe\/\S+)/.exec(welcome.text ?? '')![1]
  t.match(welcome.headerLines.find((h) => h.key === 'list-unsubscribe-post')?.line, /List-Unsubscribe=One-Click/)

  const secretFile = join(dataDir, 'token-secret')
  t.ok(existsSync(secretFile), 'the generated token secret is kept in DATA_DIR')
  t.ok(readFileSync(secretFile, 'utf8').trim().length >= 32)
  t.ok(existsSync(join(dataDir, 'pgdata')), 'the database lives in DATA_DIR')
})

t.test('after a restart on the same DATA_DIR the list and the token secret persist: an old unsubscribe link works', async (t) => {
  t.ok(unsubscribeUrl, 'the previous test left a welcome mail')
  const app = await embeddedApp()
  t.teardown(() => app.close())
  t.match((await exportOf(app))[0], { email: 'newcomer@example.org', status: 'confirmed' }, 'the subscriber survived the restart')
  const res = await app.inject({ method: 'POST', url: new URL(unsubscribeUrl).pathname, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(res.statusCode, 200, 'the link from before the restart still verifies')
  t.equal((await exportOf(app))[0].status, 'unsubscribed')
})

t.test('node dist/server.js with nothing configured serves the flow, logs the confirmation link and exits 0 on SIGTERM', async (t) => {
  await ensureBuilt()
  // The DATA_DIR of the tests above: reopening an embedded database takes a second, creating one many more.
  const dir = dataDir
  const mailsBefore = readdirSync(mailDir).filter((f) => f.endsWith('.eml')).length
  const port = await freePort()
  const child = spawn(process.execPath, ['dist/server.js'], { env: { PATH: process.env.PATH ?? '', DATA_DIR: dir, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout.on('data', (d) => { log += d })
  child.stderr.on('data', (d) => { log += d })
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })

  await waitUntil(() => log.includes('Joinlist is running') || child.exitCode !== null, 120_000, () => `the server to start: ${log}`)
  t.match(log, new RegExp(`Joinlist is running at http://localhost:${port}`))
  const base = `http://127.0.0.1:${port}`
  t.equal((await fetch(`${base}/readyz`)).status, 200)
  const res = await fetch(`${base}/subscribe`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ email: 'terminal@example.org' }) })
  t.equal(res.status, 202)
  await waitUntil(() => /confirmation link for t\*\*\*@example\.org/.test(log), 20_000, () => 'the confirmation link in the log')
  t.match(log, new RegExp(`http://localhost:${port}/confirm/[A-Za-z0-9_-]{43}`), 'a newcomer can follow the link from the log')
  t.notMatch(log, /terminal@example\.org/, 'the address itself is masked')
  await waitUntil(() => readdirSync(mailDir).filter((f) => f.endsWith('.eml')).length > mailsBefore, 20_000, () => 'the .eml')
  t.pass('and the mail is in DATA_DIR/mail')

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'a graceful exit')
})
