// The PostgreSQL driver: a postgres.js pool with server- and client-side query deadlines, prepared statements, one
// retry on a connection found dead, and COPY streaming for the export on connections of its own (./postgres-copy.ts).
import postgres from 'postgres'
import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import type { Database, Db } from './client.js'
import { ownConnectionCopier } from './postgres-copy.js'
import { ownConnectionTransaction } from './postgres-transaction.js'
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
    // JIT off: this pool runs short statements, where compiling a query costs far more than it saves (the search
    // bench measured JIT compiling adding 50–200 ms to searches the planner guessed to be large).
    connection: { TimeZone: 'UTC', application_name: 'joinlist', statement_timeout: queryTimeoutMs, jit: 'off' }
  })
  const db = drizzle(client, { schema }) as unknown as Db
  // Raw queries go straight to postgres.js (as db.execute does), so a query can be cancelled when it runs late.
  const dialect = new PgDialect()
  // Exports never take a connection from this pool: a download left unread would hold it, and ten of them would
  // leave sign-ups, confirmations and the mail worker with none.
  const copier = ownConnectionCopier(url)
  // Named prepared statements (postgres.js caches them per connection by text; our texts are constant and
  // values are bound): PostgreSQL parses and plans each statement once per connection, not once per
  // request, which the sign-up bench measured as a large share of the database's time.
  // The staff search is the exception (planEachTime): whether to walk the newest-first index or gather the matches
  // of a filter first depends on how common the searched values are, which a plan made once cannot know.
  const run = <T>(text: string, params: unknown[], prepare: boolean) =>
    withDeadline<T[]>(client.unsafe(text, params as never[], { prepare }), queryTimeoutMs + DEADLINE_GRACE_MS)
  async function query<T> (text: string, params: unknown[], prepare = true): Promise<T[]> {
    try {
      return await run<T>(text, params, prepare)
    } catch (err) {
      // A pooled connection the database dropped (restart, failover, idle kill) is only found dead when a query
      // is written to it; postgres.js then reconnects. Such a query never ran, and every statement Joinlist
      // sends is safe to repeat (sign-ups are held back by the cooldown, the rest are idempotent), so it is
      // tried once more instead of failing the request (found by test-faults/database.test.ts).
      if (!isStaleConnection(err)) throw err
      return await run<T>(text, params, prepare)
    }
  }
  return {
    kind: 'postgres',
    db,
    query,
    async rows<T> (sqlQuery: SQL, opts?: { planEachTime?: boolean }) {
      const { sql: text, params } = dialect.sqlToQuery(sqlQuery)
      return await query<T>(text, params, !opts?.planEachTime)
    },
    copyOut: copier.copyOut,
    transaction: (fn) => ownConnectionTransaction(url, fn),
    async ping () { await client`select 1` },
    async close () {
      await copier.closeAll()
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
