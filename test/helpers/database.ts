// A database of its own for each test, dropped at teardown. On PostgreSQL (DATABASE_URL set) it is a copy of a
// template database migrated once per migrations content; on embedded PGlite, a copy of a migrated data directory.
import { createHash, randomBytes } from 'node:crypto'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import type { Test } from 'tap'
import { migrate, migrationsFolder, openDatabase, type Database } from '../../src/db/client.js'

/** The URL of database `name` on the server that `serverUrl` points to. */
export function databaseUrl (serverUrl: string, name: string): string {
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/**
 * A new database named `<prefix>_<pid>_<random>` on the server at `serverUrl`, copied from `template` (PostgreSQL's
 * empty template1 when not given), and dropped with any connection still open at teardown.
 */
export async function createDatabase (t: Pick<Test, 'teardown'>, serverUrl: string,
  opts: { prefix: string, template?: string }): Promise<{ name: string, url: string }> {
  const name = `${opts.prefix}_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`CREATE DATABASE ${name}${opts.template ? ` TEMPLATE ${opts.template}` : ''}`)
  t.teardown(async () => {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  })
  return { name, url: databaseUrl(serverUrl, name) }
}

/** A short hash of everything in the migrations folder: a new or changed migration gives a new template. */
function migrationsHash (): string {
  const hash = createHash('sha256')
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) { walk(path); continue }
      hash.update(`${path.slice(migrationsFolder.length)}\0`).update(readFileSync(path)).update('\0')
    }
  }
  walk(migrationsFolder)
  return hash.digest('hex').slice(0, 12)
}

const TEMPLATE = `joinlist_tpl_${migrationsHash()}`
// An arbitrary constant: the test processes that need the template serialise on it while it is being built.
const TEMPLATE_LOCK_ID = 727_274_101
let template: Promise<string> | undefined

/**
 * The migrated template database, built by whichever test process asks first (tap runs test files in parallel
 * processes). It is built under another name and renamed when complete, so a template that exists is fully
 * migrated; and it takes no connections, because CREATE DATABASE … TEMPLATE fails while anyone is connected to it.
 */
function migratedTemplate (serverUrl: string): Promise<string> {
  template ??= (async () => {
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
    const exists = async (name: string) => (await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`).length > 0
    try {
      if (await exists(TEMPLATE)) return TEMPLATE
      // One connection (max: 1), so the lock and the unlock happen in the same session.
      await admin`SELECT pg_advisory_lock(${TEMPLATE_LOCK_ID})`
      try {
        if (await exists(TEMPLATE)) return TEMPLATE
        const building = `${TEMPLATE}_building`
        // Left behind by a process that died while building it: nobody else builds it while we hold the lock.
        if (await exists(building)) {
          await admin.unsafe(`ALTER DATABASE ${building} WITH IS_TEMPLATE false`)
          await admin.unsafe(`DROP DATABASE ${building} WITH (FORCE)`)
        }
        await admin.unsafe(`CREATE DATABASE ${building}`)
        await migrate({ databaseUrl: databaseUrl(serverUrl, building) })
        await admin.unsafe(`ALTER DATABASE ${building} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true`)
        await admin.unsafe(`ALTER DATABASE ${building} RENAME TO ${TEMPLATE}`)
        return TEMPLATE
      } finally {
        await admin`SELECT pg_advisory_unlock(${TEMPLATE_LOCK_ID})`
      }
    } finally {
      await admin.end()
    }
  })()
  return template
}

// Creating and migrating an embedded database takes seconds; copying a migrated one takes a fraction of that,
// so each test process migrates once and every test starts from a copy.
let pgliteTemplate: Promise<Blob> | undefined
function migratedPglite (): Promise<Blob> {
  pgliteTemplate ??= (async () => {
    const { PGlite } = await import('@electric-sql/pglite')
    const { drizzle } = await import('drizzle-orm/pglite')
    const { migrate: run } = await import('drizzle-orm/pglite/migrator')
    const { pgliteExtensions } = await import('../../src/db/pglite.js')
    const pg = await PGlite.create({ extensions: await pgliteExtensions() })
    await run(drizzle(pg), { migrationsFolder })
    const dump = await pg.dumpDataDir('none')
    await pg.close()
    return dump
  })()
  return pgliteTemplate
}

/** A fresh, migrated database for one test, closed and dropped at teardown; `url` only on PostgreSQL. */
export async function testDatabase (t: Pick<Test, 'teardown'>): Promise<{ database: Database, url?: string }> {
  const serverUrl = process.env.DATABASE_URL
  if (!serverUrl) {
    const database = await openDatabase({ inMemory: true, loadDataDir: await migratedPglite() })
    t.teardown(() => database.close())
    return { database }
  }
  const { url } = await createDatabase(t, serverUrl, { prefix: 'joinlist_test', template: await migratedTemplate(serverUrl) })
  const database = await openDatabase({ databaseUrl: url, poolSize: 5 })
  t.teardown(() => database.close())
  return { database, url }
}

/**
 * A new PostgreSQL database (DATABASE_URL's server) migrated only up to the migration tagged `lastTag`: a database
 * as an older release left it, to fill and then upgrade. Dropped at teardown.
 */
export async function databaseAt (t: Pick<Test, 'teardown'>, lastTag: string): Promise<string> {
  const { url } = await createDatabase(t, process.env.DATABASE_URL!, { prefix: 'joinlist_upgrade' })
  const dir = mkdtempSync(join(tmpdir(), 'joinlist-migrations-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  cpSync(migrationsFolder, dir, { recursive: true })
  const journalFile = join(dir, 'meta', '_journal.json')
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] }
  journal.entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === lastTag) + 1)
  writeFileSync(journalFile, JSON.stringify(journal))
  const { drizzle } = await import('drizzle-orm/postgres-js')
  const { migrate: run } = await import('drizzle-orm/postgres-js/migrator')
  const client = postgres(url, { max: 1, onnotice: () => {} })
  try { await run(drizzle(client), { migrationsFolder: dir }) } finally { await client.end() }
  return url
}
