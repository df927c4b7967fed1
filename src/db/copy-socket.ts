// COPY … TO STDOUT read straight off the export connection's socket. PostgreSQL sends each row as a CopyData message
// of its own, which postgres.js pushes through a stream as a Buffer of its own: a million rows were a million pushes,
// joined again into HTTP-sized chunks afterwards, and most of node's time for an export. Here the rows of each socket
// read are moved together inside the buffer they arrived in (the 5-byte message headers squeezed out), and that
// buffer is pushed once. postgres.js still opens, authenticates and sets up the connection; while the COPY runs, what
// the socket reads comes here instead of to it.
// Messages: https://www.postgresql.org/docs/current/protocol-message-formats.html; the COPY exchange:
// https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-COPY
import net from 'node:net'
import { Readable } from 'node:stream'
import postgres from 'postgres'

const COPY_DATA = 0x64 // d
const COPY_OUT_RESPONSE = 0x48 // H
const ERROR_RESPONSE = 0x45 // E
const READY_FOR_QUERY = 0x5a // Z
// A socket read shorter than this was all that had arrived (node reads up to 64 KiB at a time).
const SMALL_READ = 32 * 1024
// Each chunk pushed is a buffer node allocated for a socket read, freed once a young-generation collection finds it
// dead. An export allocates few JS objects besides, so collections came late and up to 35 MB of such buffers waited
// (V8 collects for them only past twice its largest semi-space). Where node runs with --expose-gc (npm start, the
// image), the reader asks for a young-generation collection every 2 MB it pushes: about 100 of a millisecond or
// less for a million rows, and the export's peak RSS measured 87-98 MB instead of 120-126 MB.
const COLLECT_EVERY_BYTES = 2 * 1024 * 1024

// The fields of an ErrorResponse, under the names postgres.js gives them.
const ERROR_FIELDS: Record<string, string> = { S: 'severity_local', V: 'severity', C: 'code', M: 'message', D: 'detail', H: 'hint', W: 'where', R: 'routine' }

export interface CopyOut {
  stream: Readable
  /** CopyData messages so far: PostgreSQL sends each row, and the header line, as one (protocol docs, "COPY Operations"). */
  linesSoFar(): number
}

/** A TCP or Unix socket for postgres.js's `socket` option that can also run one `COPY … TO STDOUT` by itself. */
export class CopySocket extends net.Socket {
  private reader: CopyReader | undefined

  override emit (event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'data' && this.reader) {
      this.reader.data(args[0] as Buffer)
      return true
    }
    return super.emit(event, ...args)
  }

  /**
   * Sends `copySql` as a simple Query on a connection postgres.js has left idle, and resolves once the COPY has
   * started with its rows as a stream, which ends once PostgreSQL is ready for the next query. Rejects with
   * PostgreSQL's error if the statement fails before the COPY starts.
   */
  copyOut (copySql: string): Promise<CopyOut> {
    return new Promise((resolve, reject) => {
      const reader = new CopyReader(this, resolve, reject, (rest) => {
        this.reader = undefined
        if (rest.length) super.emit('data', rest)
      })
      this.reader = reader
      // The COPY before this one on the connection may have left the socket paused.
      this.resume()
      const text = Buffer.from(copySql)
      const query = Buffer.allocUnsafe(text.length + 6)
      query[0] = 0x51 // Q
      query.writeUInt32BE(text.length + 5, 1)
      text.copy(query, 5)
      query[query.length - 1] = 0
      this.write(query)
    })
  }
}

class CopyReader {
  private readonly stream: Readable
  private lines = 0
  private started = false
  private settled = false
  private error: Error | undefined
  // The message being read: its type, the bytes of it still to come, and (other than CopyData) its body so far.
  private type = 0
  private remaining = 0
  private body: Buffer | undefined
  private filled = 0
  // A message header split between two socket reads.
  private readonly head = Buffer.alloc(5)
  private headLength = 0
  // Reading paused: the stream's reader wants no more yet, or a pause after a small read.
  private blocked = false
  private resting = false
  private uncollected = 0
  private socketError: Error | undefined
  private readonly noteError = (err: Error) => { this.socketError = err }
  private readonly lost = () => this.finish(this.socketError ?? connectionClosed())

  constructor (private readonly socket: net.Socket, private readonly onStart: (out: CopyOut) => void,
    private readonly onFail: (err: Error) => void, private readonly onDone: (rest: Buffer) => void) {
    this.stream = new Readable({ read: () => { this.blocked = false; this.flow() } })
    socket.on('error', this.noteError)
    socket.once('close', this.lost)
  }

  /** One socket read: CopyData payloads are moved to the front of `chunk`, which is then pushed as one piece. */
  data (chunk: Buffer): void {
    let i = 0
    let start = 0 // the rows moved to the front and not pushed yet are chunk[start, end)
    let end = 0
    for (;;) {
      if (this.remaining === 0 && this.body === undefined) {
        // A message starts: type, then its length (which counts itself).
        if (this.headLength === 0 && i + 5 <= chunk.length) {
          this.type = chunk[i]
          this.remaining = chunk.readUInt32BE(i + 1) - 4
          i += 5
        } else {
          while (this.headLength < 5 && i < chunk.length) this.head[this.headLength++] = chunk[i++]
          if (this.headLength < 5) break
          this.headLength = 0
          this.type = this.head[0]
          this.remaining = this.head.readUInt32BE(1) - 4
        }
        if (this.type === COPY_DATA) this.lines++
        else { this.body = Buffer.allocUnsafe(this.remaining); this.filled = 0 }
      }
      const n = Math.min(this.remaining, chunk.length - i)
      if (this.type === COPY_DATA) {
        if (end !== i) chunk.copyWithin(end, i, i + n)
        end += n
      } else {
        chunk.copy(this.body!, this.filled, i, i + n)
        this.filled += n
      }
      i += n
      this.remaining -= n
      if (this.remaining === 0 && this.body) {
        // Rows before another message go out first: CopyDone and the end come after them.
        if (end > start) this.push(chunk.subarray(start, end))
        start = end
        const body = this.body
        this.body = undefined
        if (this.message(body)) {
          this.onDone(chunk.subarray(i))
          return
        }
      } else if (i >= chunk.length) break
    }
    if (end > start) this.push(chunk.subarray(start, end))
    if (chunk.length < SMALL_READ && !this.resting) this.rest()
  }

  private push (rows: Buffer): void {
    this.uncollected += rows.length
    if (this.uncollected >= COLLECT_EVERY_BYTES && globalThis.gc) {
      this.uncollected = 0
      globalThis.gc({ type: 'minor' })
    }
    if (!this.stream.push(rows)) { this.blocked = true; this.socket.pause() }
  }

  /**
   * After a small read, waits a millisecond before reading again, so the rows that arrive meanwhile are read, and
   * sent on, together: PostgreSQL writes 8 KiB at a time, and a socket write per 8 KiB on each side cost more than
   * the bytes themselves. The kernel holds what arrives meanwhile (its receive buffer grows to megabytes).
   */
  private rest (): void {
    this.resting = true
    this.socket.pause()
    setTimeout(() => { this.resting = false; this.flow() }, 1)
  }

  private flow (): void {
    if (!this.blocked && !this.resting && !this.settled) this.socket.resume()
  }

  /** A message other than CopyData; true once the exchange is over (ReadyForQuery). */
  private message (body: Buffer): boolean {
    if (this.type === COPY_OUT_RESPONSE) {
      this.started = true
      this.onStart({ stream: this.stream, linesSoFar: () => this.lines })
    } else if (this.type === ERROR_RESPONSE) {
      this.error = postgresError(body)
    } else if (this.type === READY_FOR_QUERY) {
      this.finish(this.error)
      return true
    }
    // CopyDone, CommandComplete, and what PostgreSQL may send at any time (notices, parameter changes) need nothing.
    return false
  }

  /** Ends the exchange once: the stream ends, or fails with PostgreSQL's error or the connection's loss. */
  private finish (err: Error | undefined): void {
    if (this.settled) return
    this.settled = true
    this.socket.off('error', this.noteError)
    this.socket.off('close', this.lost)
    if (!this.started) this.onFail(err ?? new Error('the database answered the COPY without COPY data'))
    else if (err) this.stream.destroy(err)
    else this.stream.push(null)
  }
}

/** As postgres.js reports a lost connection, which the error handler answers with 503. */
const connectionClosed = () => Object.assign(new Error('the database connection closed during the COPY'), { code: 'CONNECTION_CLOSED' })

function postgresError (body: Buffer): Error {
  const fields: Record<string, string> = {}
  for (let i = 0; i < body.length && body[i] !== 0;) {
    const end = body.indexOf(0, i + 1)
    const name = ERROR_FIELDS[String.fromCharCode(body[i])]
    if (name) fields[name] = body.toString('utf8', i + 1, end)
    i = end + 1
  }
  // postgres.js's own error class, built as postgres.js builds it (its typings declare a message-only constructor).
  return new (postgres.PostgresError as unknown as new (fields: Record<string, string>) => Error)(fields)
}
