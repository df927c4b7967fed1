// The import on the embedded database (PGlite, no DATABASE_URL): the same engine, its COPY read from PGlite's
// /dev/blob inside PGlite's transaction; a failed import and a dry run leave nothing behind there too.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { sql } from 'drizzle-orm'
import { migrate, openDatabase } from '../../src/db/client.js'
import { runCli } from '../../src/cli.js'
import { testConfig } from '../helpers/app.js'

t.test('importing into the embedded database', async (t) => {
  const database = await openDatabase({ inMemory: true })
  t.teardown(() => database.close())
  await migrate({}, database)
  const dir = mkdtempSync(join(tmpdir(), 'joinlist-import-embedded-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'list.csv')
  const run = async (argv: string[]) => {
    const out = new PassThrough()
    const err = new PassThrough()
    let stdout = ''
    let stderr = ''
    out.on('data', (c: Buffer) => { stdout += c })
    err.on('data', (c: Buffer) => { stderr += c })
    const code = await runCli(argv, { database, config: testConfig(), stdout: out, stderr: err, user: 'ops' })
    return { code, stdout, stderr }
  }
  const count = async () => Number((await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM subscriptions`))[0].n)

  writeFileSync(file, 'email;name;status;created_at\r\nada@example.org;"Ada\r\nL. \\ K";confirmed;2024-01-01\r\nbob@example.org;Bob;pending;\r\nbob@example.org;Bob;pending;\r\n')
  const dry = await run(['import', file, '--list', 'main', '--dry-run'])
  t.equal(dry.code, 0, dry.stderr)
  t.match(JSON.parse(dry.stdout).rows, { read: 3, added: 2, duplicates: 1 })
  t.equal(await count(), 0, 'the dry run rolled back')

  const real = await run(['import', file, '--list', 'main'])
  t.equal(real.code, 0, real.stderr)
  t.equal(await count(), 2)
  const [ada] = await database.rows<{ name: string, status: string }>(sql`SELECT name, status FROM subscribers WHERE email = 'ada@example.org'`)
  t.same(ada, { name: 'Ada L. \\ K', status: 'confirmed' }, 'a quoted line break read whole, the name on one line, a backslash escaped for COPY')

  writeFileSync(file, 'email,name\ncy@example.org,"Cy\n')
  const broken = await run(['import', file, '--list', 'main'])
  t.equal(broken.code, 1)
  t.match(broken.stderr, /not valid CSV at line 2/)
  t.equal(await count(), 2, 'nothing of the broken file was kept')
  const bad = await run(['import', file, '--list', 'main', '--per-minute', 'lots'])
  t.equal(bad.code, 2)
})
