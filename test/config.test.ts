// Configuration: defaults, and a bad variable stops the process at start with one line naming it.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig, resolveTokenSecret } from '../src/config.js'
import { ensureBuilt } from './helpers/process.js'

const SECRET = 's'.repeat(32)

const BAD: Array<[string, Record<string, string>, RegExp]> = [
  ['PORT', { PORT: 'abc' }, /^PORT: /],
  ['PORT', { PORT: '70000' }, /^PORT: /],
  ['ADMIN_TOKEN', { ADMIN_TOKEN: 'too-short' }, /^ADMIN_TOKEN: must be at least 32 characters$/],
  ['TOKEN_SECRET', { DATABASE_URL: 'postgres://db/joinlist' }, /^TOKEN_SECRET: required when DATABASE_URL is set/],
  ['TOKEN_SECRET', { TOKEN_SECRET: 'short' }, /^TOKEN_SECRET: must be at least 32 characters$/],
  ['TRUST_PROXY', { TRUST_PROXY: 'true' }, /^TRUST_PROXY: .*addresses or CIDRs/],
  ['TRUST_PROXY', { TRUST_PROXY: '2' }, /^TRUST_PROXY: /],
  ['TRUST_PROXY', { TRUST_PROXY: '10.0.0.0/33' }, /^TRUST_PROXY: /],
  ['TRUST_PROXY', { TRUST_PROXY: 'proxy.internal' }, /^TRUST_PROXY: /],
  ['PUBLIC_URL', { PUBLIC_URL: 'lists.example.org' }, /^PUBLIC_URL: must be an absolute http\(s\) URL$/],
  ['PUBLIC_URL', { PUBLIC_URL: 'ftp://lists.example.org' }, /^PUBLIC_URL: /],
  ['DATABASE_URL', { DATABASE_URL: 'mysql://db/joinlist', TOKEN_SECRET: SECRET }, /^DATABASE_URL: must start with postgres:\/\//],
  ['SMTP_URL', { SMTP_URL: 'http://mail.example.org' }, /^SMTP_URL: must start with smtp:\/\//],
  ['CONFIRM_TTL_HOURS', { CONFIRM_TTL_HOURS: '0' }, /^CONFIRM_TTL_HOURS: /],
  ['WELCOME_EMAIL', { WELCOME_EMAIL: 'maybe' }, /^WELCOME_EMAIL: /],
  ['LOG_LEVEL', { LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /],
  ['EXPORT_CONCURRENCY', { EXPORT_CONCURRENCY: '0' }, /^EXPORT_CONCURRENCY: /],
  ['EXPORT_IDLE_TIMEOUT_SECONDS', { EXPORT_IDLE_TIMEOUT_SECONDS: 'never' }, /^EXPORT_IDLE_TIMEOUT_SECONDS: /]
]

t.test('each bad variable stops loadConfig with one line naming it', async (t) => {
  for (const [name, env, message] of BAD) {
    let err: unknown
    try { loadConfig(env) } catch (e) { err = e }
    t.ok(err instanceof ConfigError, `${name}=${Object.values(env)[0]}: a ConfigError`)
    if (!(err instanceof ConfigError)) continue
    t.match(err.message, message)
    t.notMatch(err.message, /\n/, 'one line')
  }
})

t.test('with nothing set, the defaults run embedded on localhost:3000', async (t) => {
  const c = loadConfig({})
  t.match(c, {
    port: 3000,
    host: '127.0.0.1',
    publicUrl: 'http://localhost:3000',
    databaseUrl: undefined,
    dataDir: './data',
    smtpUrl: undefined,
    listName: undefined,
    mailFrom: 'Mailing list <no-reply@localhost>',
    adminToken: undefined,
    tokenSecret: undefined,
    confirmTtlHours: 72,
    welcomeEmail: true,
    trustProxy: undefined,
    worker: true,
    exportConcurrency: 2,
    exportIdleTimeoutSeconds: 20
  })
  t.match(c.consentText, /^I agree to receive emails from this list\./)
  t.equal(loadConfig({ PORT: '8080' }).publicUrl, 'http://localhost:8080', 'PUBLIC_URL follows PORT by default')
})

t.test('values are read as documented: empty means unset, lists split, trailing slash dropped', async (t) => {
  const c = loadConfig({
    PUBLIC_URL: 'https://lists.example.org/',
    ADMIN_TOKEN: '',
    TRUST_PROXY: '10.0.0.1, 192.168.0.0/16,::1,fd00::/8',
    WELCOME_EMAIL: 'false',
    LIST_NAME: 'Policy Notes',
    CONFIRM_TTL_HOURS: '24',
    DATABASE_URL: 'postgresql://db/x',
    TOKEN_SECRET: SECRET
  })
  t.equal(c.publicUrl, 'https://lists.example.org')
  t.equal(c.adminToken, undefined)
  t.same(c.trustProxy, ['10.0.0.1', '192.168.0.0/16', '::1', 'fd00::/8'])
  t.equal(c.welcomeEmail, false)
  t.equal(c.confirmTtlHours, 24)
  t.equal(c.mailFrom, 'Policy Notes <no-reply@lists.example.org>')
})

t.test('ALLOWED_ORIGINS takes origins only; LOGO_URL and PRIVACY_URL must be absolute URLs', async (t) => {
  t.same(loadConfig({ ALLOWED_ORIGINS: 'https://www.example.gov.uk, http://localhost:8080/' }).allowedOrigins,
    ['https://www.example.gov.uk', 'http://localhost:8080'])
  t.throws(() => loadConfig({ ALLOWED_ORIGINS: 'https://www.example.gov.uk/news' }), /ALLOWED_ORIGINS: "https:\/\/www.example.gov.uk\/news" is not an origin/)
  t.throws(() => loadConfig({ LOGO_URL: '/logo.png' }), /LOGO_URL: must be an absolute http\(s\) URL/)
  t.throws(() => loadConfig({ PRIVACY_URL: 'javascript:alert(1)' }), /PRIVACY_URL/)
  t.throws(() => loadConfig({ PAGE_LANGUAGE: 'xx' }), /PAGE_LANGUAGE: must be auto or one of en/)
  t.equal(loadConfig({ PAGE_LANGUAGE: 'EN' }).pageLanguage, 'en')
  t.equal(loadConfig({}).pageLanguage, undefined)
})

t.test('resolveTokenSecret: the configured one wins; embedded mode generates one once and keeps it in DATA_DIR', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'joinlist-secret-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  t.equal(resolveTokenSecret(loadConfig({ DATA_DIR: dir, TOKEN_SECRET: SECRET })), SECRET)
  const dataDir = join(dir, 'nested')
  const first = resolveTokenSecret(loadConfig({ DATA_DIR: dataDir }))
  t.ok(first.length >= 32, 'at least 32 characters')
  t.equal(readFileSync(join(dataDir, 'token-secret'), 'utf8').trim(), first, 'kept in DATA_DIR/token-secret')
  t.equal(resolveTokenSecret(loadConfig({ DATA_DIR: dataDir })), first, 'the same after a restart')
})

/** Runs the built server with exactly this environment; resolves with its exit code and output. */
function runServer (env: Record<string, string>): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/server.js'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    // A guard, not a wait: a server that does not exit on a bad variable fails the test instead of hanging it.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('error', reject)
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

t.test('node dist/server.js with a bad variable exits 1 printing one line that names it', async (t) => {
  await ensureBuilt()
  for (const [name, env] of [['PORT', { PORT: 'abc' }], ['ADMIN_TOKEN', { ADMIN_TOKEN: 'short' }], ['TOKEN_SECRET', { DATABASE_URL: 'postgres://127.0.0.1:1/x' }], ['TRUST_PROXY', { TRUST_PROXY: 'true' }]] as const) {
    const { code, stdout, stderr } = await runServer(env)
    t.equal(code, 1, `${name}: exit code 1`)
    t.equal(stdout, '', `${name}: nothing on stdout`)
    t.equal(stderr.split('\n').filter(Boolean).length, 1, `${name}: one line`)
    t.match(stderr, new RegExp(`^Configuration error: ${name}: `), `${name}: the line names the variable`)
  }
})
