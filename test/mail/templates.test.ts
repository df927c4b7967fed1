// Mail templates staff can edit: MAIL_TEMPLATES_DIR is used for the mails, and a broken template stops the process
// at start with one line naming the file, rather than at the first send.
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { DEFAULT_TEMPLATES_DIR, loadLanguageTemplates, loadTemplates, renderPart } from '../../src/mail/templates.js'
import { LOCALES_DIR } from '../../src/messages/index.js'
import { buildTestApp, json, TOKEN_SECRET } from '../helpers/app.js'

/** A copy of the shipped templates to edit, removed at teardown. */
function templatesCopy (t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'joinlist-templates-'))
  cpSync(DEFAULT_TEMPLATES_DIR, dir, { recursive: true })
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('the mails come from the templates in MAIL_TEMPLATES_DIR', async (t) => {
  const dir = templatesCopy(t)
  writeFileSync(join(dir, 'confirmation.subject.txt'), 'One click to join {{list_name}}\n')
  writeFileSync(join(dir, 'confirmation.txt'), 'Hi! Confirm here: {{link}}\nValid {{ttl_hours}} h.\n')
  writeFileSync(join(dir, 'confirmation.html'), '<p>Hi! <a href="{{link}}">Confirm</a></p>\n')
  const { app, smtp } = await buildTestApp(t, { MAIL_TEMPLATES_DIR: dir })
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'ida@example.org', name: 'Ida' }) })
  const [mail] = await smtp.waitFor(1)
  t.equal(mail.parsed.subject, 'One click to join Policy Notes')
  t.match(mail.parsed.text, /^Hi! Confirm here: https:\/\/news\.example\.org\/confirm\/\S+\nValid 72 h\.\n$/)
  t.match(String(mail.parsed.html), /^<p>Hi! <a href="https:\/\/news\.example\.org\/confirm\/[^"]+">Confirm<\/a><\/p>/)
})

t.test('a template without its link placeholder stops the process at start with one line naming the file', async (t) => {
  const dir = templatesCopy(t)
  writeFileSync(join(dir, 'confirmation.html'), '<p>Please confirm.</p>\n')
  const server = fileURLToPath(new URL('../../src/server.ts', import.meta.url))
  const env: NodeJS.ProcessEnv = { ...process.env, MAIL_TEMPLATES_DIR: dir, TOKEN_SECRET, PORT: '0', DATA_DIR: dir, LOG_LEVEL: 'silent' }
  delete env.DATABASE_URL
  delete env.SMTP_URL
  const child = spawn(process.execPath, [...process.execArgv, server], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const code = await new Promise((resolve) => child.once('exit', resolve))
  t.equal(code, 1, 'the process exits 1')
  const lines = stderr.trim().split('\n')
  t.equal(lines.length, 1, 'one line')
  t.equal(lines[0], `Joinlist failed to start: ${join(dir, 'confirmation.html')}: must contain the {{link}} placeholder (without it the mail is useless)`)
})

t.test('unknown placeholders, unescaped HTML values, a link in the subject, bad syntax and missing files are refused, naming the file', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['welcome.txt', 'Bye: {{unsubscribe_link}}', /welcome\.txt: unknown placeholder \{\{unsubscribe_link\}\}; this mail has \{\{list_name\}\}, \{\{name\}\}, \{\{unsubscribe_url\}\}, \{\{manage_url\}\}, \{\{accent_color\}\}, \{\{logo_url\}\}$/],
    ['welcome.html', '<a href="{{unsubscribe_url}}">x</a> {{{name}}}', /welcome\.html: write \{\{name\}\}, not \{\{\{name\}\}\}/],
    ['confirmation.subject.txt', 'Confirm {{link}}', /confirmation\.subject\.txt: the subject must not contain \{\{link\}\}/],
    ['confirmation.txt', '{{#link}}Hi {{link}}', /confirmation\.txt: not a valid template \(Unclosed section "link"/],
    ['confirmation.txt', 'Hi {{name}}: {{link}}', /confirmation\.txt: unknown placeholder \{\{name\}\}; this mail has \{\{list_name\}\}, \{\{link\}\}, \{\{ttl_hours\}\}, \{\{manage_url\}\}, \{\{accent_color\}\}, \{\{logo_url\}\}$/],
    ['welcome.txt', '{{> footer}} {{unsubscribe_url}}', /welcome\.txt: partials/],
    ['welcome.txt', '{{#unsubscribe_url}}only a section{{/unsubscribe_url}}', /welcome\.txt: must contain the \{\{unsubscribe_url\}\} placeholder/]
  ]
  for (const [file, source, error] of cases) {
    const dir = templatesCopy(t)
    writeFileSync(join(dir, file), source)
    t.throws(() => loadTemplates(dir), error, file)
  }
  const dir = templatesCopy(t)
  rmSync(join(dir, 'welcome.subject.txt'))
  t.throws(() => loadTemplates(dir), new RegExp(`${join(dir, 'welcome.subject.txt')}: cannot read the mail template \\(ENOENT\\)`))
})

t.test('rendering: HTML escapes values, text keeps them, a subject stays on one line', async (t) => {
  const template = { subject: 'Hi\n{{name}}\n', text: '{{name}} & {{link}}', html: '<p title="{{name}}">{{name}}</p>' }
  const view = { name: '"O\'Neil" <x>', link: 'https://e.example/a?b=1&c=2' }
  t.equal(renderPart(template, 'subject', view), 'Hi "O\'Neil" <x>')
  t.equal(renderPart(template, 'text', view), '"O\'Neil" <x> & https://e.example/a?b=1&c=2')
  t.equal(renderPart(template, 'html', view), '<p title="&quot;O&#39;Neil&quot; &lt;x&gt;">&quot;O&#39;Neil&quot; &lt;x&gt;</p>')
  t.equal(renderPart(template, 'text', { name: '', link: 'l' }), ' & l', 'an empty name renders as nothing')
})

t.test('MAIL_TEMPLATES_DIR/<lang>/ replaces that language\'s templates; the others stay shipped', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'joinlist-templates-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  cpSync(join(LOCALES_DIR, 'cy', 'mail'), join(dir, 'cy'), { recursive: true })
  writeFileSync(join(dir, 'cy', 'confirmation.subject.txt'), 'Cadarnhewch, os gwelwch yn dda: {{list_name}}\n')
  const templates = loadLanguageTemplates(['en', 'cy'], LOCALES_DIR, dir)
  t.equal(templates.cy.confirmation.subject, 'Cadarnhewch, os gwelwch yn dda: {{list_name}}\n')
  t.equal(templates.en.confirmation.subject, loadTemplates(DEFAULT_TEMPLATES_DIR).confirmation.subject, 'English stays shipped')
  writeFileSync(join(dir, 'cy', 'welcome.html'), '<p>Dim dolen</p>')
  t.throws(() => loadLanguageTemplates(['en', 'cy'], LOCALES_DIR, dir), /cy\/welcome\.html: must contain the \{\{unsubscribe_url\}\} placeholder/)
})
