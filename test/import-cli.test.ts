// The CLI's import: the same engine and report as the staff API, a progress bar on a terminal, and confirmation mails
// only when asked, at the rate asked, through the outbox.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { sql } from 'drizzle-orm'
import { buildTestApp, staff } from './helpers/app.js'
import { outboxIdle } from './helpers/flow.js'
import { linkIn, pathOf } from './helpers/mail.js'
import { mailsTo, waitForMailTo } from './helpers/smtp.js'
import { runCli } from '../src/cli.js'

function capture (tty = false) {
  const stream = Object.assign(new PassThrough(), { isTTY: tty })
  let text = ''
  stream.on('data', (c: Buffer) => { text += c.toString() })
  return { stream, text: () => text }
}

t.test('import from the CLI: dry run, then for real, then confirmations only when asked', async (t) => {
  const { app, database, config, smtp } = await buildTestApp(t)
  const run = async (argv: string[], tty = false) => {
    const out = capture()
    const err = capture(tty)
    const code = await runCli(argv, { database, config, stdout: out.stream, stderr: err.stream, user: 'ops' })
    return { code, out: out.text(), err: err.text() }
  }
  const dir = mkdtempSync(join(tmpdir(), 'joinlist-import-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'list.csv')
  writeFileSync(file, 'email,name,status,created_at\nkim@example.org,Kim,confirmed,2024-01-02 03:04:05\nlee@example.org,Lee,pending,\n')
  t.equal((await app.inject({ method: 'POST', url: '/admin/api/lists', headers: staff, payload: { slug: 'events', name: 'Events' } })).statusCode, 201)

  const dry = await run(['import', file, '--list', 'events', '--dry-run'], true)
  t.equal(dry.code, 0, dry.err)
  t.match(JSON.parse(dry.out), { dryRun: true, list: 'events', rows: { read: 2, added: 2 } })
  t.match(dry.err, /\[#{30}\] 0\.0\/0\.0 MB, writing\nDry run, nothing was changed: 2 rows read, 2 added/)
  t.equal((await database.rows(sql`SELECT 1 FROM subscribers`)).length, 0, 'the dry run wrote nothing')

  const real = await run(['import', file, '--list', 'events'])
  t.equal(real.code, 0, real.err)
  t.match(JSON.parse(real.out), { dryRun: false, rows: { added: 2 }, confirmationsQueued: 0 })
  const [event] = await database.rows<{ method: string, details: Record<string, unknown> }>(sql`
    SELECT method, details FROM consent_events WHERE type = 'import' ORDER BY id LIMIT 1`)
  t.match(event, { method: 'cli', details: { actor: 'cli:ops', list: 'events', row: 2, signedUpAt: /^2024-01-02T03:04:05/ } })
  await outboxIdle(database)
  t.equal(smtp.mails.length, 0, 'by default an import sends nothing')

  writeFileSync(file, 'email\nmo@example.org\nkim@example.org\n')
  const asked = await run(['import', file, '--list', 'events', '--send-confirmations', '--per-minute', '6000'])
  t.equal(asked.code, 0, asked.err)
  t.match(JSON.parse(asked.out), { rows: { added: 1, unchanged: 1 }, confirmationsQueued: 1 })
  const mail = await waitForMailTo(smtp, 'mo@example.org')
  const confirmed = await app.inject({ method: 'POST', url: pathOf(linkIn(mail, '/confirm/')), headers: { accept: 'application/json' } })
  t.equal(confirmed.statusCode, 200, 'the mailed link confirms')
  await outboxIdle(database)
  t.equal(mailsTo(smtp, 'kim@example.org').length, 0, 'no mail to the confirmed import')

  const bad = await run(['import', file])
  t.equal(bad.code, 2)
  t.match(bad.err, /--list SLUG/)
  const missing = await run(['import', join(dir, 'nope.csv'), '--list', 'events'])
  t.equal(missing.code, 1)
  t.match(missing.err, /Cannot read .*nope\.csv \(ENOENT\)/)
  writeFileSync(file, 'name\nx\n')
  const refused = await run(['import', file, '--list', 'events'])
  t.equal(refused.code, 1)
  t.match(refused.err, /no email column.*\nNothing was imported/)
})
