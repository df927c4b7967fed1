// The embedded driver: PGlite, PostgreSQL compiled to WebAssembly, in-process, with its data in DATA_DIR (or in
// memory for tests), locked to this process while open (./embedded-lock.ts). One session shared by every request.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import type { PGlite } from '@electric-sql/pglite'
import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import type { Database, Db, OpenOptions } from './client.js'
import { lockEmbeddedDatabase } from './embedded-lock.js'
import * as schema from './schema.js'

/** The extensions the migrations create, which PGlite must be given when it starts (tests use it too). */
export async function pgliteExtensions () {
  // pg_trgm and btree_gin: the staff search's index (partial matches, status and source).
  const [{ pg_trgm: pgTrgm }, { btree_gin: btreeGin }] = await Promise.all([
    import('@electric-sql/pglite/contrib/pg_trgm'), import('@electric-sql/pglite/contrib/btree_gin')])
  return { pg_trgm: pgTrgm, btree_gin: btreeGin }
}

export async function openPglite (opts: OpenOptions): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite')
  const { drizzle } = await import('drizzle-orm/pglite')
  let dataPath: string | undefined
  let unlock = async () => {}
  if (!opts.inMemory) {
    dataPath = join(opts.dataDir ?? './data', 'pgdata')
    mkdirSync(dataPath, { recursive: true })
    unlock = await lockEmbeddedDatabase(dataPath)
  }
  let pg: PGlite
  try {
    pg = await PGlite.create(dataPath, { extensions: await pgliteExtensions(), ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}) })
    await pg.exec("SET TIME ZONE 'UTC'")
  } catch (err) {
    await unlock()
    throw err
  }
  const db = drizzle(pg, { schema }) as unknown as Db
  const dialect = new PgDialect()
  return {
    kind: 'pglite',
    db,
    async rows<T> (query: SQL) { return (await db.execute(query) as unknown as { rows: T[] }).rows },
    async query<T> (text: string, params: unknown[]) { return (await pg.query<T>(text, params)).rows },
    async copyOut (copySql, settings) {
      const parts = [copySql].flat()
      // PGlite is one session shared by every request: in a transaction, with transaction-local settings, no other
      // query runs between setting the values and the COPY (concurrent exports used to see each other's filters).
      const result = await pg.transaction(async (tx) => {
        // The export's times are formatted from the timestamps' output in UTC (see copyOut in ./client.ts).
        await tx.query("SET LOCAL TIME ZONE 'UTC'")
        for (const [name, value] of Object.entries(settings)) {
          await tx.query('select set_config($1, $2, true)', ['joinlist.' + name, value])
        }
        // PGlite has no COPY TO STDOUT; it writes COPY output to a virtual /dev/blob instead. The parts run one after
        // the other (one session), and their outputs are joined in order.
        const results = []
        for (const part of parts) {
          results.push(await tx.query(part.replace(/TO STDOUT/, "TO '/dev/blob'")))
        }
        return results
      })
      const blob = new Blob(result.flatMap((r) => r.blob ? [r.blob] : []))
      const stream = Readable.fromWeb(blob.stream() as import('node:stream/web').ReadableStream)
      // The COPY is over before the first byte is streamed; what the stream still holds is the list in memory.
      // PostgreSQL counts rows; a header line is one more line.
      const lines = result.reduce((n, r) => n + (r.affectedRows ?? 0), 0) + (/\bHEADER\b/i.test(parts[0]) ? 1 : 0)
      return { stream, linesSoFar: () => lines, released: new Promise<void>((resolve) => stream.once('close', () => resolve())) }
    },
    async transaction (fn) {
      return await pg.transaction(async (tx) => await fn({
        async rows<T> (query: SQL) {
          const { sql: text, params } = dialect.sqlToQuery(query)
          return (await tx.query<T>(text, params)).rows
        },
        async copyIn (copySql) {
          // PGlite has no COPY FROM STDIN; it reads COPY input from a virtual /dev/blob, so the rows are gathered
          // first (the embedded database holds everything in memory anyway).
          const chunks: Buffer[] = []
          return new Writable({
            write (chunk: Buffer, _enc, done) { chunks.push(chunk); done() },
            final (done) {
              tx.query(copySql.replace(/FROM STDIN/, "FROM '/dev/blob'"), [], { blob: new Blob(chunks as Uint8Array<ArrayBuffer>[]) })
                .then(() => done(), done)
            }
          })
        }
      }))
    },
    async ping () { await pg.query('select 1') },
    // Closing twice is harmless, as it is for postgres.js.
    async close () {
      if (!pg.closed) await pg.close()
      await unlock()
    }
  }
}
