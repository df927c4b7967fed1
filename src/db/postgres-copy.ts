// The export's COPY … TO STDOUT, each on a PostgreSQL connection of its own that closes with it: an export never
// holds one of the pool's connections, and an abandoned one is cut at its socket.
import { finished, type Readable } from 'node:stream'
import postgres from 'postgres'
import { coalesce } from './copy.js'
import type { CopyStream } from './client.js'
import { CopySocket, type CopyOut } from './copy-socket.js'

/** How export backends show in pg_stat_activity. */
const EXPORT_APPLICATION_NAME = 'joinlist-export'

// Backstops, should an export session ever be left open by mistake: PostgreSQL ends it after this long idle
// (idle_session_timeout, PostgreSQL 14+), or idle inside a transaction.
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

/** `copyOut` over connections of their own, and `closeAll` for the database's close(). */
export function ownConnectionCopier (url: string) {
  const open = new Set<ExportConnection>()

  async function copyOut (copySql: string, settings: Record<string, string>): Promise<CopyStream> {
    const connection = exportConnection(url)
    open.add(connection)
    let copy: CopyOut
    try {
      // Session settings: the connection is closed after this one COPY, so the values (secrets among them) go
      // nowhere else.
      for (const [name, value] of Object.entries(settings)) {
        await connection.sql`select set_config(${'joinlist.' + name}, ${value}, false)`
      }
      copy = connection.socket && !connection.tls
        ? await connection.socket.copyOut(copySql)
        : await driverCopyOut(connection.sql, copySql)
    } catch (err) {
      await connection.close(true)
      open.delete(connection)
      throw err
    }
    const { stream } = copy
    // Ended (read to the end) or cut short: either way the connection closes, at its socket if cut short.
    const ended = new Promise<void>((resolve) => {
      finished(stream, (err) => { connection.close(Boolean(err)).finally(() => { open.delete(connection); resolve() }) })
    })
    const closed = new Promise<void>((resolve) => stream.once('close', resolve))
    return { stream, linesSoFar: copy.linesSoFar, released: Promise.all([closed, ended]).then(() => {}) }
  }

  return {
    copyOut,
    async closeAll () { await Promise.all([...open].map((c) => c.close(true))) }
  }
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
      idle_session_timeout: IDLE_BACKSTOP_MS,
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
