// Drill: SIGTERM while requests and sends are in flight: the in-flight request finishes, a new one
// gets 503 with Connection: close, the worker finishes what it is sending and hands back the rest, exit code 0.
import http from 'node:http'
import net from 'node:net'
import t from 'tap'
import { startSmtp } from '../test/helpers/smtp.js'
import { waitUntil } from '../test/helpers/wait.js'
import { checkDelivery, drillDatabase, outboxState, pool, signup, startServer } from './harness.js'

/** A raw HTTP response: status line and headers, parsed from what arrives on the socket. */
function responseOf (socket: net.Socket): Promise<{ status: number, headers: string }> {
  return new Promise((resolve, reject) => {
    let data = ''
    socket.on('data', (d) => {
      data += String(d)
      const end = data.indexOf('\r\n\r\n')
      if (end >= 0) resolve({ status: Number(data.split(' ')[1]), headers: data.slice(0, end) })
    })
    socket.once('error', reject)
    socket.once('close', () => reject(new Error(`closed before a response: ${JSON.stringify(data)}`)))
  })
}

function newRequest (base: string): Promise<{ status: number, connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/subscribe`, {
      method: 'POST', agent: false, headers: { 'content-type': 'application/json', accept: 'application/json' }
    }, (res) => {
      res.resume()
      res.once('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }))
    })
    req.once('error', reject)
    req.end(JSON.stringify({ email: 'too-late@example.org' }))
  })
}

t.test('SIGTERM mid-request and mid-send: the request finishes, new ones get 503, held mail is released, exit 0, nothing lost', async (t) => {
  const db = await drillDatabase(t)
  const sink = await startSmtp(t, { delayMs: 2500 })
  const env = { DATABASE_URL: db.url, SMTP_URL: sink.url, SMTP_POOL_SIZE: '2' }
  const server = await startServer(t, 'first', env)

  const addresses = Array.from({ length: 20 }, (_, i) => `term-${i}@example.org`)
  const statuses = await pool(addresses, 5, (email) => signup(server.url, email))
  t.same(statuses.filter((s) => s !== 202), [], 'all sign-ups got 202')
  await waitUntil(async () => (await outboxState(db.sql)).sending >= 4, 15_000, () => 'the worker never held a batch')

  // An in-flight request: headers and half the body sent before SIGTERM, the rest after.
  const { port } = new URL(server.url)
  const inflight = net.connect(Number(port), '127.0.0.1')
  await new Promise((resolve) => inflight.once('connect', resolve))
  const body = JSON.stringify({ email: 'in-flight@example.org' })
  const inflightResponse = responseOf(inflight)
  inflight.write(`POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`)
  // The server has read those headers once it has answered a request sent after them: on loopback, the earlier
  // bytes are ready on its socket before the later connection is, and it reads ready sockets in one pass.
  await new Promise<void>((resolve) => inflight.write('', () => resolve()))
  t.equal((await fetch(`${server.url}/healthz`)).status, 200)

  const started = Date.now()
  server.proc.kill('SIGTERM')
  await waitUntil(() => server.logs.some((l) => l.msg === 'shutting down'), 10_000, () => 'the server to start shutting down')
  const late = await newRequest(server.url)
  t.equal(late.status, 503, 'a new request during shutdown gets 503')
  t.equal(late.connection, 'close', 'with Connection: close')

  inflight.write(body.slice(10))
  const answered = await inflightResponse
  t.equal(answered.status, 202, 'the request in flight at SIGTERM finished with 202')
  inflight.destroy()

  const exit = await server.exited
  t.same(exit, { code: 0, signal: null }, 'the process exits 0')
  t.comment(`exited ${Date.now() - started} ms after SIGTERM`)
  const after = await outboxState(db.sql)
  t.equal(after.sending, 0, 'the worker left no message claimed: each was sent or handed back')
  const released = server.logs.find((l) => l.msg === 'outbox messages released on stop')
  t.ok(released, `the worker handed back the messages it had not started (${String(released?.released)})`)
  t.ok(after.pending > 0, 'and they wait in the queue')

  // The next process sends the rest, once: the shutdown lost nothing.
  sink.opts.delayMs = 0
  const next = await startServer(t, 'second', env)
  await waitUntil(async () => (await outboxState(db.sql)).sent === 21, 60_000, () => `${sink.mails.length} mails so far`)
  checkDelivery(t, [...addresses, 'in-flight@example.org'], sink)
  next.proc.kill('SIGTERM')
  t.equal((await next.exited).code, 0)
})
