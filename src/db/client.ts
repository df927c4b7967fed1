// Database access: the Database interface every driver gives, PostgreSQL through postgres.js (./postgres.ts) or the
// embedded PostgreSQL, PGlite (./pglite.ts), when DATABASE_URL is unset; and the migrations.
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import type { SQL } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import type * as schema from './schema.js'

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>

export interface Database {
  kind: 'postgres' | 'pglite'
  db: Db
  /**
   * Runs raw SQL and returns its rows, whatever the driver. `planEachTime`: planned for its own values on every
   * run (an unnamed statement), not once per connection: for searches whose best plan depends on the values.
   */
  rows<T = Record<string, unknown>>(query: SQL, opts?: { planEachTime?: boolean }): Promise<T[]>
  /** Runs a constant statement text with bound parameters ($1, $2, …): for hot paths, no query building. */
  query<T = Record<string, unknown>>(text: string, params: unknown[]): Promise<T[]>
  /**
   * Streams the output of `COPY (…) TO STDOUT …`. COPY takes no bind parameters, so values reach it as settings
   * `joinlist.<name>`, set with bound parameters on the same connection just before. The session's TimeZone is UTC
   * (the export's times are built from timestamps' own output). Destroying the stream stops the COPY.
   */
  copyOut(copySql: string | string[], settings: Record<string, string>): Promise<CopyStream>
  /**
   * Runs `fn` in one transaction on a connection of its own, with no statement deadline (an import of a large file
   * takes minutes); committed when `fn` resolves, rolled back when it throws or the process dies.
   */
  transaction<T>(fn: (tx: CopyTransaction) => Promise<T>): Promise<T>
  ping(): Promise<void>
  close(): Promise<void>
}

/** A transaction that can bulk-load rows. */
export interface CopyTransaction {
  rows<T = Record<string, unknown>>(query: SQL): Promise<T[]>
  /** A sink for `COPY … FROM STDIN` (text format): once it has finished, the COPY is complete. */
  copyIn(copySql: string): Promise<Writable>
}

export interface CopyStream {
  stream: Readable
  /**
   * Lines of output so far: PostgreSQL sends each row, and the header line, as a CopyData message of its own
   * (protocol docs, "COPY Operations"), so this counts records, whatever line breaks their quoted cells hold.
   */
  linesSoFar(): number
  /** Resolves once the stream has closed (ended or destroyed) and the COPY's database connection is closed. */
  released: Promise<void>
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
   * both fail as unavailable, so requests fail fast with 503.
   */
  queryTimeoutMs?: number
}

export async function openDatabase (opts: OpenOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const { openPostgres } = await import('./postgres.js')
    return await openPostgres(opts.databaseUrl, opts.poolSize ?? 10, opts.queryTimeoutMs ?? 10_000)
  }
  const { openPglite } = await import('./pglite.js')
  return await openPglite(opts)
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
