// A staff download on a socket of its own, for the tests of abandoned exports (test/export-release.test.ts and the
// fault drill test-faults/export.test.ts): inject() and fetch() can neither stop reading a response while keeping
// its connection open nor cut it mid-body the way a cancelled browser download does.
import net from 'node:net'

export interface Download { socket: net.Socket, status: number, received: number }

/**
 * GETs `path` from `base` and reads until `minBytes` have arrived (or 10 s passed, or the server closed), then no
 * further: the socket stays open and unread, a paused download. Destroying the socket abandons it.
 */
export function startDownload (base: string, path: string, authorization: string, minBytes = 200_000): Promise<Download> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname)
    let status = 0
    let received = 0
    const stop = () => {
      clearTimeout(timer)
      socket.removeListener('data', onData)
      socket.pause()
      resolve({ socket, status, received })
    }
    const timer = setTimeout(stop, 10_000)
    const onData = (chunk: Buffer) => {
      if (!status) status = Number(chunk.toString('latin1', 0, 12).split(' ')[1])
      received += chunk.length
      if (received >= minBytes) stop()
    }
    socket.on('data', onData)
    socket.once('close', stop)
    socket.on('error', () => {})
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: ${authorization}\r\n\r\n`)
  })
}

/** Once the server has ended a paused download, the last bytes the client reads: a cut response has no closing chunk. */
export function readToEnd (socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let last = ''
    socket.on('data', (c: Buffer) => { last = (last + c.toString('latin1')).slice(-16) })
    socket.once('close', () => resolve(last))
    socket.resume()
  })
}
