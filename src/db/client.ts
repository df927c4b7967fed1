// Database access: PostgreSQL through postgres.js, or embedded PostgreSQL (PGlite) when DATABASE_URL is unset.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import type { PGlite } from '@electric-sql/pglite'
import type { SQL } from 'drizzle-orm'
import { PgDialect, type PgDatabase, type PgQueryResultHKT } from 'drizzle-orm/pg-core'
import * as schema from './schema.js'

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>

export interface Database {
  kind: 'postgres' | 'pglite'
  db: Db
  /** Runs raw SQL and returns its rows, whatever the driver. */
  rows<T = Record<string, unknown>>(query: SQL): Promise<T[]>
  /** Runs a constant statement text with bound parameters ($1, $2, …): for hot paths, no query building. */
  query<T = Record<string, unknown>>(text: string, params: unknown[]): Promise<T[]>
  /**
   * Streams the output of `COPY (…) TO STDOUT …`. COPY takes no bind parameters, so values reach it as session
   * settings `joinlist.<name>`, set with bound parameters on the same connection just before.
   */
  copyOut(copySql: string, settings: Record<string, string>): Promise<CopyStream>
  ping(): Promise<void>
  close(): Promise<void>
}

export interface CopyStream {
  stream: Readable
  /** Stops the COPY on the server, e.g. when the HTTP client went away. */
  cancel(): void
}

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url))
// An arbitrary constant: every instance takes the same advisory lock before migrating.
const MIGRATION_LOCK_ID = 727_274_001

export interface OpenOptions {
  databaseUrl?: string
  dataDir?: string
  /** PGlite only: keep the data in memory (tests). */
  inMemory?: boolean
  /** PGlite only: start from this dumped data directory (tests clone one migrated database, PGlite's dumpDataDir). */
  loadDataDir?: Blob
  poolSize?: number
  /**
   * PostgreSQL only: a statement running longer than this is cancelled by PostgreSQL itself (statement_timeout),
   * and one with no answer a little later (the database is gone) fails here and is taken off the pool's queue;
   * both fail as unavailable, so requests fail fast with 503 (STANDARDS F31).
   */
  queryTimeoutMs?: number
}

export async function openDatabase (opts: OpenOptions): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts.poolSize ?? 10, opts.queryTimeoutMs ?? 10_000) : openPglite(opts)
}

async function openPostgres (url: string, max: number, queryTimeoutMs: number): Promise<Database> {
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
  // request, which the sign-up bench measured as a large share of the database's time (issue #5).
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

async function openPglite (opts: OpenOptions): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite')
  const { drizzle } = await import('drizzle-orm/pglite')
  let dataPath: string | undefined
  if (!opts.inMemory) {
    dataPath = join(opts.dataDir ?? './data', 'pgdata')
    mkdirSync(dataPath, { recursive: true })
  }
  const pg: PGlite = await PGlite.create(dataPath, opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {})
  await pg.exec("SET TIME ZONE 'UTC'")
  const db = drizzle(pg, { schema }) as unknown as Db
  return {
    kind: 'pglite',
    db,
    async rows<T> (query: SQL) { return (await db.execute(query) as unknown as { rows: T[] }).rows },
    async query<T> (text: string, params: unknown[]) { return (await pg.query<T>(text, params)).rows },
    async copyOut (copySql, settings) {
      // PGlite is one session shared by every request: in a transaction, with transaction-local settings, no other
      // query runs between setting the values and the COPY (concurrent exports used to see each other's filters).
      const result = await pg.transaction(async (tx) => {
        for (const [name, value] of Object.entries(settings)) {
          await tx.query('select set_config($1, $2, true)', ['joinlist.' + name, value])
        }
        // PGlite has no COPY TO STDOUT; it writes COPY output to a virtual /dev/blob instead.
        return await tx.query(copySql.replace(/TO STDOUT/, "TO '/dev/blob'"))
      })
      const blob = result.blob ?? new Blob([])
      return { stream: Readable.fromWeb(blob.stream() as import('node:stream/web').ReadableStream), cancel: () => {} }
    },
    async ping () { await pg.query('select 1') },
    // Closing twice is harmless, as it is for postgres.js.
    async close () { if (!pg.closed) await pg.close() }
  }
}

/**
 * PostgreSQL sends COPY output as one protocol message per row, and postgres.js pushes each as its own chunk:
 * written as is, a 1M-row export is a million HTTP chunks and socket writes. This joins the rows that arrive
 * together (one socket read, up to 64 KiB) into one chunk: the export bench measured it as most of the gap to psql.
 */
function coalesce (source: Readable): Readable {
  const COALESCE_BYTES = 64 * 1024
  let parts: Buffer[] = []
  let size = 0
  let scheduled = false
  const out = new Readable({ read () { source.resume() } })
  const flush = () => {
    scheduled = false
    if (size === 0) return
    const chunk = parts.length === 1 ? parts[0] : Buffer.concat(parts, size)
    parts = []
    size = 0
    if (!out.push(chunk)) source.pause()
  }
  source.on('data', (chunk: Buffer) => {
    parts.push(chunk)
    size += chunk.length
    if (size >= COALESCE_BYTES) flush()
    else if (!scheduled) { scheduled = true; setImmediate(flush) }
  })
  source.once('end', () => { flush(); out.push(null) })
  source.once('error', (err) => out.destroy(err))
  out.once('close', () => { if (!source.destroyed) source.destroy() })
  return out
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

/** Applies pending migrations; instances starting together serialise on an advisory lock. */
export async function migrate (opts: OpenOptions, database?: Database): Promise<void> {
  if (!opts.databaseUrl) {
    if (!database) throw new Error('migrate: an open embedded database is required')
    const { migrate: run } = await import('drizzle-orm/pglite/migrator')
    await run(database.db as never, { migrationsFolder })
    return
  }
  const { drizzle } = await import('drizzle-orm/postgres-js')
  const { migrate: run } = await import('drizzle-orm/postgres-js/migrator')
  // One connection, so the lock, the migration and the unlock happen in the same session.
  const client = postgres(opts.databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 })
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_ID})`
    await run(drizzle(client), { migrationsFolder })
    await client`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`
  } finally {
    await client.end({ timeout: 5 })
  }
}
