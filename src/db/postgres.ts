// The PostgreSQL driver: a postgres.js pool with server- and client-side query deadlines, prepared statements, one
// retry on a connection found dead, and COPY streaming for the export.
import type { Readable } from 'node:stream'
import postgres from 'postgres'
import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { coalesce } from './copy.js'
import type { Database, Db } from './client.js'
import * as schema from './schema.js'

export async function openPostgres (url: string, max: number, queryTimeoutMs: number): Promise<Database> {
  const { drizzle } = await import('drizzle-orm/postgres-js')
  const client = postgres(url, {
    max,
    onnotice: () => {},
    connect_timeout: 5,
    idle_timeout: 60,
    // Reconnect attempts back off, but at most 2 s apart: the default grows to 20 s, so after a database restart
    // queries could keep waiting long after it is back.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 2),
    // No array-type lookup on each new connection: when a connection is killed during that lookup, postgres.js
    // 3.4 leaves an unhandled rejection that kills the process, and replays the old error onto the next query
    // (porsager/postgres #1192, #1205, #1223), found by test-faults/database.test.ts. Joinlist passes no JS arrays
    // as parameters (drizzle expands lists into one parameter each), so it does not need the lookup.
    fetch_types: false,
    // The server ends a statement that runs too long, so when a request is told 503 its statement did not
    // commit. The client's own deadline comes a little later and covers a database that does not answer at all: a
    // cancel sent from here can arrive after the statement has committed (seen in CI: a sign-up batch answered
    // 503 was stored once the lock it waited on went away).
    connection: { TimeZone: 'UTC', application_name: 'joinlist', statement_timeout: queryTimeoutMs }
  })
  const db = drizzle(client, { schema }) as unknown as Db
  // Raw queries go straight to postgres.js (as db.execute does), so a query can be cancelled when it runs late.
  const dialect = new PgDialect()
  // Export transactions still finishing: close() waits for them, because client.end() called while one is still
  // on its connection waits out its whole timeout (seen: every close right after an export took 5 s).
  const releasing = new Set<Promise<void>>()
  // Named prepared statements (postgres.js caches them per connection by text; our texts are constant and
  // values are bound): PostgreSQL parses and plans each statement once per connection, not once per
  // request, which the sign-up bench measured as a large share of the database's time.
  const run = <T>(text: string, params: unknown[]) =>
    withDeadline<T[]>(client.unsafe(text, params as never[], { prepare: true }), queryTimeoutMs + DEADLINE_GRACE_MS)
  async function query<T> (text: string, params: unknown[]): Promise<T[]> {
    try {
      return await run<T>(text, params)
    } catch (err) {
      // A pooled connection the database dropped (restart, failover, idle kill) is only found dead when a query
      // is written to it; postgres.js then reconnects. Such a query never ran, and every statement Joinlist
      // sends is safe to repeat (sign-ups are held back by the cooldown, the rest are idempotent), so it is
      // tried once more instead of failing the request (found by test-faults/database.test.ts).
      if (!isStaleConnection(err)) throw err
      return await run<T>(text, params)
    }
  }
  return {
    kind: 'postgres',
    db,
    query,
    async rows<T> (sqlQuery: SQL) {
      const { sql: text, params } = dialect.sqlToQuery(sqlQuery)
      return await query<T>(text, params)
    },
    async copyOut (copySql, settings) {
      // In a transaction rather than on client.reserve(): reserve() on a pool with no idle connection never
      // settles with fetch_types off (porsager/postgres #751, #1219; an export during a burst of sign-ups would
      // hang). LOCAL settings end with the transaction, so the secrets in them never go back to the pool.
      let opened!: (copy: { stream: Readable, stop: () => void }) => void
      const started = new Promise<{ stream: Readable, stop: () => void }>((resolve) => { opened = resolve })
      const transaction = client.begin(async (tx) => {
        // A large list takes longer than any query deadline; an abandoned download cancels it instead.
        await tx`set local statement_timeout = 0`
        for (const [name, value] of Object.entries(settings)) {
          await tx`select set_config(${'joinlist.' + name}, ${value}, true)`
        }
        const query = tx.unsafe(copySql)
        const stream = await query.readable() as unknown as Readable
        // postgres.js can leave the connection paused when the reader lags at the very end of a COPY
        // (porsager/postgres #499, #917): one more read on 'end' lets it finish.
        stream.once('end', () => (stream as unknown as { _read(): void })._read())
        opened({ stream, stop: () => cancelQuietly(query) })
        // The transaction (and its connection) lasts as long as the stream: ended, failed or destroyed.
        await new Promise((resolve) => stream.once('close', resolve))
      })
      const done: Promise<void> = transaction.then(() => {}, () => {}).finally(() => releasing.delete(done))
      releasing.add(done)
      const { stream, stop } = await Promise.race([started, transaction.then(() => { throw new Error('COPY did not start') })])
      return { stream: coalesce(stream), cancel: () => { stop(); stream.destroy() } }
    },
    async ping () { await client`select 1` },
    async close () {
      await Promise.all(releasing)
      await client.end({ timeout: 5 })
    }
  }
}

/** How long after PostgreSQL's own statement_timeout the client gives up on an answer. */
const DEADLINE_GRACE_MS = 1000

const STALE = new Set(['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'ECONNRESET', 'EPIPE', '57P01'])
const isStaleConnection = (err: unknown) => STALE.has(String((err as { code?: unknown } | null)?.code))

/** Cancelling a running query needs a new connection, which fails while the database is gone: that is ignored. */
function cancelQuietly (query: { cancel(): unknown }): void {
  Promise.resolve(query.cancel()).catch(() => {})
}

/** The query's rows, or a QUERY_TIMEOUT error after ms; a query not yet sent is dropped from the pool's queue. */
function withDeadline<T> (query: postgres.PendingQuery<postgres.Row[]>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      cancelQuietly(query)
      reject(Object.assign(new Error(`the database did not answer within ${ms} ms`), { code: 'QUERY_TIMEOUT' }))
    }, ms)
  })
  return Promise.race([query as unknown as Promise<T>, late]).finally(() => clearTimeout(timer))
}
