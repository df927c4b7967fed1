// A real HTTP webhook receiver in the test process, on 127.0.0.1: records every request (headers and raw body) and
// answers as the test says: a status per request (then 200), a delay, a hang until released, or nothing at all
// (stopped: connections refused). Used by the webhook tests and the fault drills.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { waitUntil } from './wait.js'

export interface Received {
  id: string
  timestamp: string
  signature: string
  headers: Record<string, string>
  body: string
  json: { type: string, timestamp: string, data: Record<string, any> }
  /** The status this request was answered with; 0 if the sender had gone before the answer. */
  status: number
}

export interface Receiver {
  url: string
  port: number
  requests: Received[]
  /** Requests whose body has arrived, answered or not. */
  arrived: number
  /** Answers the next requests with these statuses, one each, then 200 again. */
  failNext(...statuses: number[]): void
  /** Answers every request with this status until set back to 200. */
  answer: number
  /** Waits this long before answering each request. */
  delayMs: number
  /** Holds every answer until release() is called. */
  hold(): void
  release(): void
  stop(): Promise<void>
  start(): Promise<void>
  /** Resolves once `n` requests were answered 2xx. */
  waitForDelivered(n: number, timeoutMs?: number): Promise<Received[]>
  delivered(): Received[]
}

function headersOf (req: IncomingMessage): Record<string, string> {
  return Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v ?? '']))
}

export async function startReceiver (t: Pick<Test, 'teardown'>, port = 0): Promise<Receiver> {
  let server: Server | undefined
  const queue: number[] = []
  let held: Array<() => void> | undefined
  const sockets = new Set<import('node:net').Socket>()
  const r: Receiver = {
    url: '',
    port,
    requests: [],
    arrived: 0,
    answer: 200,
    delayMs: 0,
    failNext: (...statuses) => { queue.push(...statuses) },
    hold: () => { held ??= [] },
    release: () => { const h = held ?? []; held = undefined; for (const go of h) go() },
    async start () {
      server = createServer((req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          r.arrived++
          const finish = () => {
            const body = Buffer.concat(chunks).toString('utf8')
            const headers = headersOf(req)
            // The sender gave up (it timed out or died) while the answer was held: nobody got this answer.
            const status = res.socket === null || res.socket.destroyed ? 0 : queue.shift() ?? r.answer
            let json: Received['json']
            try { json = JSON.parse(body) } catch { json = { type: '', timestamp: '', data: {} } }
            r.requests.push({ id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], signature: headers['webhook-signature'], headers, body, json, status })
            if (status === 0) return
            res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? `answer ${status} `.repeat(100) : 'ok')
          }
          const later = () => (r.delayMs > 0 ? setTimeout(finish, r.delayMs) : finish())
          if (held) held.push(later)
          else later()
        })
      })
      server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
      await new Promise<void>((resolve) => server!.listen(r.port, '127.0.0.1', resolve))
      r.port = (server.address() as AddressInfo).port
      r.url = `http://127.0.0.1:${r.port}/hook`
    },
    async stop () {
      const s = server
      server = undefined
      if (!s) return
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => s.close(() => resolve()))
    },
    delivered: () => r.requests.filter((q) => q.status >= 200 && q.status < 300),
    async waitForDelivered (n, timeoutMs = 15_000) {
      await waitUntil(() => r.delivered().length >= n, timeoutMs, () => `${n} webhook deliveries (have ${r.delivered().length})`)
      return r.delivered()
    }
  }
  await r.start()
  t.teardown(async () => { r.release(); await r.stop() })
  return r
}
