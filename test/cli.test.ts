// The staff command line (issue #7): show, erase, export and purge, with the same ledger records as over HTTP.
import t from 'tap'
import { PassThrough } from 'node:stream'
import { sql } from 'drizzle-orm'
import { buildTestApp, csvRecords, json, staff, TOKEN_SECRET } from './helper.js'
import { runCli } from '../src/cli.js'
import { isSuppressed } from '../src/domain/consent.js'

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
  t.ok(await isSuppressed(database, TOKEN_SECRET, 'pam@example.org'))
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
  for (const argv of [[], ['frobnicate'], ['show'], ['show', 'not-an-address'], ['export', '--status', 'everyone'], ['export', '--since', 'yesterday']]) {
    const r = await run(argv)
    t.equal(r.code, 2, `usage error: ${argv.join(' ')}`)
    t.match(r.err, /Usage: npm run cli/)
  }
  const since = await run(['export', '--status', 'all', '--since', '2020-01-01'])
  t.match(since.err, /Exported 0 rows \(all since 2020-01-01T00:00:00.000Z\)/)
})
