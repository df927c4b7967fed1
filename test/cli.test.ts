// The staff command line: show, erase, export and purge, with the same ledger records as over HTTP.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { sql } from 'drizzle-orm'
import { buildTestApp, json, staff, testConfig, TOKEN_SECRET } from './helpers/app.js'
import { testDatabase } from './helpers/database.js'
import { csvRecords } from './helpers/flow.js'
import { runCli } from '../src/cli.js'
import { loadDotEnv } from '../src/config.js'
import { isSuppressed } from '../src/domain/suppression.js'

function capture (tty = false) {
  const stream = Object.assign(new PassThrough(), { isTTY: tty })
  let text = ''
  stream.on('data', (c: Buffer) => { text += c.toString() })
  return { stream, text: () => text }
}

t.test('the CLI shows, exports and erases an address, and each use is in the ledger', async (t) => {
  const { app, database, config } = await buildTestApp(t)
  for (const email of ['pam@example.org', 'quinn@example.org']) {
    await app.inject({ method: 'POST', url: '/subscribe', ...json({ email, name: '=HYPERLINK("x")' }) })
  }
  const run = async (argv: string[], tty = false) => {
    const out = capture()
    const err = capture(tty)
    const code = await runCli(argv, { database, config, stdout: out.stream, stderr: err.stream, user: 'ops' })
    return { code, out: out.text(), err: err.text() }
  }

  const shown = await run(['show', 'Pam@Example.org'])
  t.equal(shown.code, 0)
  t.match(JSON.parse(shown.out), { email: 'pam@example.org', subscriber: { status: 'pending' }, suppressed: false })

  const exported = await run(['export', '--status', 'pending'], true)
  t.equal(exported.code, 0)
  const endpoint = (await app.inject({ url: '/admin/subscribers.csv?status=pending', headers: staff })).body
  t.equal(exported.out, endpoint, 'the same CSV as the endpoint')
  t.equal(csvRecords(exported.out).length, 2)
  t.match(exported.err, /\[#{30}\] 2\/2 rows\nExported 2 rows \(pending\)/, 'a progress bar, then a summary, on stderr')

  const erased = await run(['erase', 'pam@example.org'])
  t.same(JSON.parse(erased.out), { status: 'erased', held: true, suppressed: true })
  t.ok(await isSuppressed(database, { current: TOKEN_SECRET }, 'pam@example.org'))
  const missing = await run(['show', 'nobody@example.org'])
  t.equal(missing.code, 1)
  t.match(missing.err, /No data is held/)

  const ledger = await database.rows<{ type: string, method: string, details: Record<string, unknown> }>(sql`
    SELECT type, method, details FROM consent_events WHERE method = 'cli' ORDER BY id`)
  t.same(ledger.map((e) => [e.type, e.details.actor]), [['access', 'cli:ops'], ['export', 'cli:ops'], ['erasure', 'cli:ops'], ['access', 'cli:ops']])
  t.match(ledger[1].details, { filters: { status: 'pending', since: null }, rows: 2 })
})

t.test('the CLI purge and its usage errors', async (t) => {
  const { database, config } = await buildTestApp(t)
  const run = async (argv: string[]) => {
    const out = capture()
    const err = capture()
    const code = await runCli(argv, { database, config, stdout: out.stream, stderr: err.stream })
    return { code, out: out.text(), err: err.text() }
  }
  const purged = await run(['purge'])
  t.equal(purged.code, 0)
  t.same(JSON.parse(purged.out), { skipped: false, deleted: 0, tokensCleared: 0 })
  for (const argv of [[], ['frobnicate'], ['show'], ['show', 'not-an-address'], ['export', '--status', 'everyone'], ['export', '--since', 'yesterday'], ['export', '--since', '0000-01-01']]) {
    const r = await run(argv)
    t.equal(r.code, 2, `usage error: ${argv.join(' ')}`)
    t.match(r.err, /Usage: npm run cli/)
  }
  t.match((await run(['export', '--since', '0000-01-01'])).err, /^--since must be from 1970-01-01 up to now/, 'a since PostgreSQL cannot take is refused before anything is audited')
  const since = await run(['export', '--status', 'all', '--since', '2020-01-01'])
  t.match(since.err, /Exported 0 rows \(all since 2020-01-01T00:00:00.000Z\)/)
})

t.test('export --output writes the CSV into the file, not stdout, and the ledger records it', async (t) => {
  const { app, database, config } = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'rosa@example.org', name: 'Rosa Zoë' }) })
  const dir = t.testdir()
  const file = join(dir, 'list.csv')
  const out = capture()
  const err = capture()
  const code = await runCli(['export', '--status', 'all', '--output', file], { database, config, stdout: out.stream, stderr: err.stream })
  t.equal(code, 0)
  t.equal(out.text(), '', 'nothing on stdout, so npm banners cannot end up in the list')
  const endpoint = (await app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })).body
  t.equal(readFileSync(file, 'utf8'), endpoint, 'the same CSV as the endpoint')
  t.same(readdirSync(dir), ['list.csv'], 'no temporary file left behind')
  t.match(err.text(), `Exported 1 rows (all) to ${file}.`)
  const [event] = await database.rows<{ details: { rows: number } }>(sql`SELECT details FROM consent_events WHERE type = 'export'`)
  t.equal(event.details.rows, 1)
})

t.test('export --output into a folder that does not exist fails with exit 1 before anything is exported', async (t) => {
  const { database, config } = await buildTestApp(t)
  const err = capture()
  const file = join(t.testdir(), 'missing', 'list.csv')
  const code = await runCli(['export', '--output', file], { database, config, stdout: capture().stream, stderr: err.stream })
  t.equal(code, 1)
  t.match(err.text(), /^Cannot write .*list\.csv \(ENOENT\): check that its folder exists/)
  t.same(await database.rows(sql`SELECT id FROM consent_events WHERE type = 'export'`), [], 'no export on record')
})

t.test('an export that fails leaves the earlier file as it was and no partial file', async (t) => {
  const { database } = await testDatabase(t)
  const config = { ...testConfig(), tokenSecret: TOKEN_SECRET }
  const dir = t.testdir({ 'list.csv': 'yesterday\'s list\n' })
  await database.close() // every query now fails
  await t.rejects(runCli(['export', '--output', join(dir, 'list.csv')], { database, config, stdout: capture().stream, stderr: capture().stream }))
  t.same(readdirSync(dir), ['list.csv'])
  t.equal(readFileSync(join(dir, 'list.csv'), 'utf8'), 'yesterday\'s list\n')
})

t.test('--help prints the usage, and <command> --help that command\'s, without opening a database', async (t) => {
  const config = testConfig()
  const run = async (argv: string[]) => {
    const out = capture()
    const err = capture()
    // No database in the context and none configured: help must not need one.
    const code = await runCli(argv, { config: { ...config, databaseUrl: 'postgres://nobody@127.0.0.1:1/none' }, stdout: out.stream, stderr: err.stream })
    return { code, out: out.text(), err: err.text() }
  }
  for (const argv of [['--help'], ['-h'], ['help']]) {
    const r = await run(argv)
    t.equal(r.code, 0)
    t.match(r.out, /^Usage: npm run cli -- <command>/)
    t.match(r.out, /<command> --help/)
  }
  const exportHelp = await run(['export', '--help'])
  t.equal(exportHelp.code, 0)
  t.match(exportHelp.out, /^Usage: npm run --silent cli -- export \[--status S\]/)
  t.match(exportHelp.out, '--output FILE')
  t.match((await run(['help', 'erase'])).out, /^Usage: npm run --silent cli -- erase <email>/)
})

t.test('.env is read when present, and the environment wins over it', async (t) => {
  const dir = t.testdir({ '.env': 'JOINLIST_TEST_FROM_FILE=file\nJOINLIST_TEST_BOTH=file\n' })
  process.env.JOINLIST_TEST_BOTH = 'environment'
  t.teardown(() => { delete process.env.JOINLIST_TEST_FROM_FILE; delete process.env.JOINLIST_TEST_BOTH })
  t.equal(loadDotEnv(join(dir, 'missing.env')), false, 'no file: nothing happens')
  t.equal(loadDotEnv(join(dir, '.env')), true)
  t.equal(process.env.JOINLIST_TEST_FROM_FILE, 'file')
  t.equal(process.env.JOINLIST_TEST_BOTH, 'environment')
})

t.test('the CLI adds, renames and archives lists, and exports one list', async (t) => {
  const { app, database, config } = await buildTestApp(t)
  const run = async (argv: string[]) => {
    const out = capture()
    const err = capture()
    const code = await runCli(argv, { database, config, stdout: out.stream, stderr: err.stream, user: 'ops' })
    return { code, out: out.text(), err: err.text() }
  }
  const added = await run(['lists', 'add', 'events', 'Event invitations', '--description', 'Talks and launches'])
  t.equal(added.code, 0)
  t.match(JSON.parse(added.out), { slug: 'events', name: 'Event invitations', description: 'Talks and launches', public: true })
  t.match(JSON.parse((await run(['lists', 'rename', 'events', 'Events'])).out), { name: 'Events' })

  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'eve@example.org', lists: ['events'] }) })
  const exported = await run(['export', '--status', 'all', '--list', 'events'])
  t.equal(exported.code, 0)
  t.same(csvRecords(exported.out).map((r) => [r.email, r.list, r.status]), [['eve@example.org', 'events', 'pending']])

  t.type(JSON.parse((await run(['lists', 'archive', 'events'])).out).archivedAt, 'string')
  t.same(JSON.parse((await run(['lists'])).out).map((l: { slug: string }) => l.slug), ['main', 'events'])

  const taken = await run(['lists', 'add', 'events', 'Again'])
  t.equal(taken.code, 1)
  t.match(taken.err, /exists already/)
  const lastDefault = await run(['lists', 'archive', 'main'])
  t.equal(lastDefault.code, 1)
  t.match(lastDefault.err, /default/)
  const unknown = await run(['export', '--list', 'nope'])
  t.equal(unknown.code, 1)
  t.match(unknown.err, /No list has the slug "nope"/)
  t.equal((await run(['lists', 'add', 'x'])).code, 2, 'a usage error')
})
