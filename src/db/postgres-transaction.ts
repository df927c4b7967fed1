// Long transactions (an import) on a PostgreSQL connection of their own: they never hold one of the pool's
// connections for minutes, and they run without the pool's statement deadline.
import type { Writable } from 'node:stream'
import postgres from 'postgres'
import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import type { CopyTransaction } from './client.js'

/** How import sessions show in pg_stat_activity. */
export const IMPORT_APPLICATION_NAME = 'joinlist-import'

export async function ownConnectionTransaction<T> (url: string, fn: (tx: CopyTransaction) => Promise<T>): Promise<T> {
  const client = postgres(url, {
    max: 1,
    onnotice: () => {},
    connect_timeout: 5,
    fetch_types: false,
    connection: {
      TimeZone: 'UTC',
      application_name: IMPORT_APPLICATION_NAME,
      statement_timeout: 0,
      // A backstop: a session left idle inside its transaction (a process stuck, not dead: a dead one closes its
      // socket and PostgreSQL rolls back at once) gives its locks back after this long.
      idle_in_transaction_session_timeout: 60_000
    }
  })
  const dialect = new PgDialect()
  try {
    return await client.begin(async (tx) => await fn({
      async rows<R> (query: SQL) {
        const { sql: text, params } = dialect.sqlToQuery(query)
        return await tx.unsafe(text, params as never[]) as unknown as R[]
      },
      async copyIn (copySql) { return await tx.unsafe(copySql).writable() as unknown as Writable }
    })) as T
  } finally {
    await client.end({ timeout: 5 })
  }
}
