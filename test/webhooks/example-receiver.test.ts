// The example receiver in examples/ works as documented: it accepts Joinlist's deliveries, handles each webhook-id
// once (a replay is answered 200 and ignored), and refuses a wrong signature or a stale timestamp.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Webhook } from 'standardwebhooks'
import { buildTestApp, json, staff } from '../helpers/app.js'
import { signUpAndConfirm } from '../helpers/flow.js'
import { freePort } from '../helpers/process.js'
import { waitUntil } from '../helpers/wait.js'

const EXAMPLE = fileURLToPath(new URL('../../examples/webhook-receiver.mjs', import.meta.url))

t.test('the example receiver takes the deliveries, once per webhook-id', async (t) => {
  const ta = await buildTestApp(t, { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_BASE_MS: '50' })
  const port = await freePort()
  const j = json({ url: `http://127.0.0.1:${port}/`, eventTypes: ['subscription.confirmed'] })
  const created = await ta.app.inject({ method: 'POST', url: '/admin/api/webhooks', ...j, headers: { ...j.headers, ...staff } })
  const { secret } = created.json() as { secret: string }
  const dir = mkdtempSync(join(tmpdir(), 'joinlist-example-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const seenFile = join(dir, 'seen.txt')
  const proc = spawn(process.execPath, [EXAMPLE], { env: { PATH: process.env.PATH, WEBHOOK_SECRET: secret, PORT: String(port), SEEN_FILE: seenFile } })
  let out = ''
  proc.stdout.on('data', (d) => { out += String(d) })
  t.teardown(() => { proc.kill() })
  await waitUntil(() => out.includes('listening'), 10_000, () => 'the example to listen')

  await signUpAndConfirm(ta, 'example@example.org')
  await waitUntil(() => out.includes('add example@example.org to main'), 10_000, () => `the example to handle the event: ${out}`)
  // The id is written down once handle() has returned, just after the line above is printed.
  await waitUntil(() => existsSync(seenFile) && readFileSync(seenFile, 'utf8').includes('\n'), 10_000, () => 'the handled id to be written down')
  const [id] = readFileSync(seenFile, 'utf8').split('\n')
  t.match(id, /^evt_/)

  // A replay of the same id, signed with the reference implementation, is acknowledged and not handled again.
  const body = JSON.stringify({ type: 'subscription.confirmed', timestamp: new Date().toISOString(), data: { subscriber: { email: 'example@example.org' }, list: { slug: 'main' }, consent: {} } })
  const send = (headers: Record<string, string>) => fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } })
  const now = new Date()
  const signature = new Webhook(secret).sign(id, now, body)
  const replay = await send({ 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature })
  t.equal(replay.status, 200)
  t.equal(await replay.text(), 'already handled')
  t.equal(out.split('add example@example.org').length - 1, 1, 'handled once')

  const forged = await send({ 'webhook-id': 'evt_new', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature })
  t.equal(forged.status, 401, 'a signature for another id is refused')
  const old = new Date(now.getTime() - 10 * 60_000)
  const stale = await send({ 'webhook-id': 'evt_old', 'webhook-timestamp': String(Math.floor(old.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('evt_old', old, body) })
  t.equal(stale.status, 401, 'a timestamp ten minutes old is refused')
})
