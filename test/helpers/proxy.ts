// A TCP proxy in front of a server (PostgreSQL in the tests and drills): cut() drops every connection and stops
// listening, as a server that restarts or vanishes would; restore() listens again on the same port. With
// `blackhole` it accepts connections and never answers, as a host that is unreachable without refusing.
import net, { type AddressInfo } from 'node:net'
import type { Test } from 'tap'

export interface TcpProxy {
  /** The target URL, pointed at the proxy. */
  readonly url: string
  readonly port: number
  cut(): Promise<void>
  restore(): Promise<void>
}

export async function tcpProxy (t: Pick<Test, 'teardown'>, targetUrl: string, opts: { blackhole?: boolean } = {}): Promise<TcpProxy> {
  const target = new URL(targetUrl)
  const sockets = new Set<net.Socket>()
  let server: net.Server | undefined
  let port = 0
  const restore = async () => {
    const listening = net.createServer((client) => {
      sockets.add(client)
      client.once('close', () => sockets.delete(client))
      client.on('error', () => {})
      if (opts.blackhole) return
      const upstream = net.connect(Number(target.port || 5432), target.hostname)
      sockets.add(upstream)
      upstream.once('close', () => sockets.delete(upstream))
      upstream.on('error', () => {})
      client.pipe(upstream).pipe(client)
      client.once('close', () => upstream.destroy())
      upstream.once('close', () => client.destroy())
    })
    await new Promise<void>((resolve) => listening.listen(port, '127.0.0.1', () => resolve()))
    server = listening
    port = (listening.address() as AddressInfo).port
  }
  const cut = async () => {
    const s = server
    server = undefined
    const closing = new Promise<void>((resolve) => s ? s.close(() => resolve()) : resolve())
    for (const socket of sockets) socket.destroy()
    await closing
  }
  await restore()
  t.teardown(cut)
  return {
    get url () { const u = new URL(target); u.port = String(port); return u.toString() },
    get port () { return port },
    cut,
    restore
  }
}
