// The export's COPY … TO STDOUT, each on a PostgreSQL connection of its own that closes with it: an export never
// holds one of the pool's connections, and an abandoned one is cut at its socket.
import { finished, Readable } from 'node:stream'
import postgres from 'postgres'
import { coalesce } from './copy.js'
import type { CopyStream } from './client.js'
import { CopySocket, type CopyOut } from './copy-socket.js'

/** How export backends show in pg_stat_activity. */
const EXPORT_APPLICATION_NAME = 'joinlist-export'

// Backstop, should an export session ever be left open by mistake inside a transaction. No idle_session_timeout: a
// connection whose part ran ahead waits idle, legitimately, for as long as a slow client takes over the part before.
const IDLE_BACKSTOP_MS = 10_000

interface ExportConnection {
  sql: postgres.Sql
  /** The connection's socket, once open. */
  readonly socket: CopySocket | undefined
  /** Whether postgres.js may have wrapped the socket in TLS (`ssl` or `sslmode` set): then it alone reads it. */
  readonly tls: boolean
  /** Ends the connection: politely once the COPY is complete, at the socket when it was abandoned. */
  close(abandoned: boolean): Promise<void>
}

/**
 * Connections one export runs its parts on at once: the client is sent one part while PostgreSQL formats the next on
 * the other connection, so formatting, which is most of an export's time, uses two of the machine's cores.
 */
const PARALLEL_PARTS = 2

/** `copyOut` over connections of their own, and `closeAll` for the database's close(). */
export function ownConnectionCopier (url: string) {
  const open = new Set<ExportConnection>()

  /**
   * Runs `parts` (one COPY, or the COPYs whose outputs make the export when joined in order) and streams their
   * output in order. Part i runs on connection i mod 2 once that connection's part before it has been sent on, so
   * the next part is at most one ahead of the one being sent, and what it has formatted waits in the socket's
   * buffers, not in memory here. Every connection is open, and the first part has started, before this resolves:
   * a database that cannot be reached or a statement it refuses fails the request before any byte is sent.
   */
  async function copyOut (copySql: string | string[], settings: Record<string, string>): Promise<CopyStream> {
    const parts = typeof copySql === 'string' ? [copySql] : copySql
    const connections: ExportConnection[] = []
    const closeAll = async (abandoned: boolean) => {
      await Promise.all(connections.map((c) => c.close(abandoned)))
      for (const c of connections) open.delete(c)
    }
    const runs: Array<Promise<CopyOut>> = []
    const run = (i: number) => (runs[i] ??= partCopy(connections[i % connections.length], parts[i]))
    try {
      const opened = await Promise.allSettled(Array.from({ length: Math.min(PARALLEL_PARTS, parts.length) }, async () => {
        const connection = exportConnection(url)
        connections.push(connection)
        open.add(connection)
        await setSettings(connection, settings)
      }))
      const failed = opened.find((o) => o.status === 'rejected')
      if (failed) throw failed.reason
      await run(0)
    } catch (err) {
      await closeAll(true)
      throw err
    }
    // Read ahead: started now, sent on in turn (a failure then ends the stream with the error).
    const ahead = (i: number) => { if (i < parts.length) run(i).then((o) => o.stream.on('error', () => {}), () => {}) }
    ahead(1)
    let linesBefore = 0 // of the parts already sent on
    let current: CopyOut | undefined
    let complete = false
    const stream = new Readable({ read: () => { current?.stream.resume() } })
    const send = (i: number): void => {
      if (i === parts.length) { complete = true; stream.push(null); return }
      run(i).then((part) => {
        if (stream.destroyed) return
        current = part
        part.stream.on('data', (chunk: Buffer) => { if (!stream.push(chunk)) part.stream.pause() })
        finished(part.stream, (err) => {
          if (err) { stream.destroy(err); return }
          linesBefore += part.linesSoFar()
          current = undefined
          ahead(i + PARALLEL_PARTS)
          send(i + 1)
        })
      }, (err: Error) => stream.destroy(err))
    }
    send(0)
    // Ended (read to the end) or cut short: either way the connections close, at their sockets if cut short (that
    // also ends a part still running ahead, whose stream nobody reads).
    const ended = new Promise<void>((resolve) => {
      finished(stream, (err) => { closeAll(Boolean(err) || !complete).finally(resolve) })
    })
    const closed = new Promise<void>((resolve) => stream.once('close', resolve))
    return {
      stream,
      linesSoFar: () => linesBefore + (current?.linesSoFar() ?? 0),
      released: Promise.all([closed, ended]).then(() => {})
    }
  }

  return {
    copyOut,
    async closeAll () { await Promise.all([...open].map((c) => c.close(true))) }
  }
}

/**
 * Session settings, in one statement: the connection is closed after its export, so the values (secrets among them)
 * go nowhere else.
 */
async function setSettings (connection: ExportConnection, settings: Record<string, string>): Promise<void> {
  const entries = Object.entries(settings)
  // Run even with no settings: it opens the connection, so the COPY can be read off its socket.
  if (!entries.length) { await connection.sql`select 1`; return }
  const calls = entries.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, false)`)
  await connection.sql.unsafe(`select ${calls.join(', ')}`, entries.flatMap(([name, value]) => ['joinlist.' + name, value]))
}

/** One part's COPY on its connection: off the socket, or through postgres.js's stream over TLS. */
async function partCopy (connection: ExportConnection, copySql: string): Promise<CopyOut> {
  return connection.socket && !connection.tls
    ? await connection.socket.copyOut(copySql)
    : await driverCopyOut(connection.sql, copySql)
}

/**
 * The COPY through postgres.js's own stream, for a connection over TLS (whose bytes the socket cannot read): a
 * Buffer per row, joined into chunks again by coalesce().
 */
async function driverCopyOut (sql: postgres.Sql, copySql: string): Promise<CopyOut> {
  const raw = await sql.unsafe(copySql).readable() as unknown as Readable
  // postgres.js can leave the socket paused when the reader lags at the very end of a COPY (porsager/postgres
  // #499, #917): one more read on 'end' lets the statement complete, so the connection can end politely.
  raw.once('end', () => {
    try {
      (raw as unknown as { _read(): void })._read()
    } catch {
      // The connection has closed already (its socket is gone): nothing is left to read.
    }
  })
  return coalesce(raw)
}

function exportConnection (url: string): ExportConnection {
  let socket: CopySocket | undefined
  let tls = false
  const sql = postgres(url, {
    max: 1,
    // One COPY, then closed: no recycling in the middle of it (postgres.js ends connections after 30-60 minutes).
    max_lifetime: 0,
    onnotice: () => {},
    connect_timeout: 5,
    // No type lookup: nothing here binds an array (and see ./postgres.ts for what that lookup does on a lost
    // connection).
    fetch_types: false,
    // A large list takes longer than any query deadline: no statement_timeout. An abandoned download ends the
    // COPY by closing this connection instead.
    connection: {
      TimeZone: 'UTC',
      application_name: EXPORT_APPLICATION_NAME,
      statement_timeout: 0,
      idle_in_transaction_session_timeout: IDLE_BACKSTOP_MS
    },
    // postgres.js's own end() only half-closes its socket (Terminate, then FIN), which a backend blocked writing to
    // a client that stopped reading never reads; so the export opens the socket itself (the `socket` option,
    // postgres.js README "Custom socket") to be able to close it outright.
    // It is also the socket the COPY is read from (./copy-socket.ts).
    socket: (options: { host: string[], port: number[], path?: string | false, ssl: unknown }) => {
      tls = Boolean(options.ssl)
      socket = new CopySocket()
      if (options.path) socket.connect(options.path)
      // The first host of a multi-host URL; `host` is what postgres.js names in TLS SNI.
      else Object.assign(socket.connect(options.port[0], options.host[0]), { host: options.host[0] })
      return socket
    }
  } as postgres.Options<Record<string, never>>)
  let closing: Promise<void> | undefined
  const close = (abandoned: boolean) => {
    closing ??= (async () => {
      // A backend blocked writing to a client that stopped reading (wait event ClientWrite in pg_stat_activity)
      // does not act on a query cancel until that write completes, which it never does; a closed socket makes
      // the write fail, and the backend ends.
      if (abandoned) socket?.destroy()
      await sql.end({ timeout: abandoned ? 0 : 1 })
      socket?.destroy()
    })()
    return closing
  }
  return { sql, close, get socket () { return socket }, get tls () { return tls } }
}
