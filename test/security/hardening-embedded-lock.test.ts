// The embedded database is opened by one process at a time: a second open of the same DATA_DIR (the CLI beside the
// running server) is refused with a clear message instead of working on a copy the server never sees.
import { execFile, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { promisify } from 'node:util'
import t from 'tap'
import { sql } from 'drizzle-orm'
import { runCli } from '../../src/cli.js'
import { migrate, openDatabase } from '../../src/db/client.js'
import { DatabaseInUseError } from '../../src/db/embedded-lock.js'
import { ensureBuilt } from '../helpers/process.js'
import { ADMIN_TOKEN, testConfig } from '../helpers/app.js'
import { waitUntil } from '../helpers/wait.js'

const newDataDir = (t: { teardown(fn: () => unknown): void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'joinlist-lock-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function capture () {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (c: Buffer) => { text += c.toString() })
  return { stream, text: () => text }
}

t.test('a second open of the same DATA_DIR is refused until the first one closes', async (t) => {
  const dataDir = newDataDir(t)
  const first = await openDatabase({ dataDir })
  t.teardown(() => first.close())
  const refused = await openDatabase({ dataDir }).then(() => undefined, (err: unknown) => err)
  t.ok(refused instanceof DatabaseInUseError, String(refused))
  t.match(refused, { code: 'EDATABASEINUSE', message: /in use by another process/ })
  t.same(await first.rows(sql`select 1 as ok`), [{ ok: 1 }], 'the first one is unaffected')
  await first.close()
  await first.close() // twice is harmless
  const second = await openDatabase({ dataDir })
  t.same(await second.rows(sql`select 1 as ok`), [{ ok: 1 }], 'closing released the lock')
  await second.close()
})

t.test('the lock of a process that died goes stale and is taken over', async (t) => {
  const dataDir = newDataDir(t)
  // What a process killed with SIGKILL leaves: the lock, no longer refreshed.
  const lock = join(dataDir, 'pgdata.lock')
  mkdirSync(join(dataDir, 'pgdata'), { recursive: true })
  mkdirSync(lock)
  const minuteAgo = new Date(Date.now() - 60_000)
  utimesSync(lock, minuteAgo, minuteAgo)
  const database = await openDatabase({ dataDir })
  t.same(await database.rows(sql`select 1 as ok`), [{ ok: 1 }])
  await database.close()
})

t.test('runCli refuses while another process holds the embedded database, naming the HTTP alternative', async (t) => {
  const dataDir = newDataDir(t)
  const config = testConfig({ DATA_DIR: dataDir })
  const server = await openDatabase({ dataDir })
  await migrate({ dataDir }, server)
  const run = async (argv: string[]) => {
    const out = capture()
    const err = capture()
    const code = await runCli(argv, { config, stdout: out.stream, stderr: err.stream, user: 'ops' })
    return { code, out: out.text(), err: err.text() }
  }
  const refused = await run(['erase', 'someone@example.org'])
  t.equal(refused.code, 1)
  t.equal(refused.out, '', 'nothing reported as erased')
  t.match(refused.err, /in use by another process/)
  t.match(refused.err, /DELETE \/admin\/subscribers\/:email with the staff token/)
  t.match(refused.err, /stop the server first/)
  t.match((await run(['export'])).err, /GET \/admin\/subscribers\.csv/)
  await server.close()
  const erased = await run(['erase', 'someone@example.org'])
  t.equal(erased.code, 0, erased.err)
  t.same(JSON.parse(erased.out), { status: 'erased', held: false, suppressed: true })
})

const freePort = () => new Promise<number>((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo
    server.close(() => resolve(port))
  })
})

/** `node dist/cli.js …` on DATA_DIR alone (no DATABASE_URL from the test environment). */
async function cli (dataDir: string, args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['dist/cli.js', ...args], { env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir } })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

t.test('the real CLI refuses while the real server runs on the same DATA_DIR, and works once it stopped', async (t) => {
  await ensureBuilt()
  const dataDir = newDataDir(t)
  const port = await freePort()
  const child = spawn(process.execPath, ['dist/server.js'], {
    env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, PORT: String(port), ADMIN_TOKEN },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let log = ''
  child.stdout.on('data', (d) => { log += d })
  child.stderr.on('data', (d) => { log += d })
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  await waitUntil(() => log.includes('Joinlist is running') || child.exitCode !== null, 120_000, () => `the server to start: ${log}`)
  const base = `http://127.0.0.1:${port}`
  const email = 'x@example.org'
  t.equal((await fetch(`${base}/subscribe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) })).status, 202)

  const refused = await cli(dataDir, ['erase', email])
  t.equal(refused.code, 1, 'exit code 1')
  t.notMatch(refused.stdout, /erased/)
  t.match(refused.stderr, /DELETE \/admin\/subscribers\/:email with the staff token/)
  const staffHeaders = { authorization: `Bearer ${ADMIN_TOKEN}` }
  const held = await (await fetch(`${base}/admin/subscribers/${email}`, { headers: staffHeaders })).json() as { subscriber: unknown }
  t.ok(held.subscriber, 'the server still holds the subscriber, and says so')
  const erased = await fetch(`${base}/admin/subscribers/${email}`, { method: 'DELETE', headers: staffHeaders })
  t.equal(erased.status, 200, 'the HTTP alternative works')

  child.kill('SIGTERM')
  t.equal(await exited, 0)
  const after = await cli(dataDir, ['show', email])
  t.equal(after.code, 0, after.stderr)
  t.match(JSON.parse(after.stdout), { subscriber: null, suppressed: true }, 'once the server stopped, the CLI sees its data')
})
