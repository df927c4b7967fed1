// Embedded mode (no SMTP_URL): every mail is written to DATA_DIR/mail as an .eml file, and the confirmation link is
// logged so a newcomer can follow it without a mail server.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { simpleParser } from 'mailparser'
import { buildApp } from '../../src/app.js'
import { json, testConfig } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { waitUntil } from '../helpers/wait.js'
import { countOf, mimeTree } from '../helpers/mail.js'
import { captureLogs } from '../helpers/logs.js'

t.test('without SMTP_URL the confirmation mail lands in DATA_DIR/mail as a complete .eml, and its link is logged', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'joinlist-mailbox-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const { database } = await testDatabase(t)
  const { stream, logText } = captureLogs()
  const app = await buildApp(testConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'info' }), { database, logger: { level: 'info', stream } })
  t.teardown(() => app.close())
  await app.ready()
  t.equal(app.mailer.kind, 'mailbox')

  t.equal((await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'kim@example.org', name: 'Kim' }) })).statusCode, 202)
  const dir = join(dataDir, 'mail')
  await waitUntil(() => { try { return readdirSync(dir).some((f) => f.endsWith('.eml')) } catch { return false } })
  const file = readdirSync(dir).find((f) => f.endsWith('.eml'))!
  const raw = readFileSync(join(dir, file), 'utf8')
  const mail = await simpleParser(raw)
  t.equal(mail.subject, 'Confirm your subscription to Policy Notes')
  t.equal(countOf(raw, 'Message-ID'), 1)
  t.equal(mimeTree(raw).type, 'multipart/alternative')
  const link = /https:\/\/news\.example\.org\/confirm\/\S+/.exec(mail.text ?? '')![0]
  await waitUntil(() => logText().includes('confirmation link'))
  t.ok(logText().includes(`(local mailbox, no SMTP_URL): ${link}`), 'the link is in the log, for a newcomer to follow')
})
