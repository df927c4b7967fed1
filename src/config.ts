// Configuration: parsed once from the environment; a bad value stops the process with one line naming it.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { z } from 'zod'
import { contrastRatio, MIN_TEXT_CONTRAST, parseHex, WHITE } from './pages/colour.js'
import { LANGUAGES } from './messages/index.js'
import { CONTROL_CHARS } from './text.js'

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v))
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max)
const secret = z.string().min(32, 'must be at least 32 characters')
// An IP address, or address/prefix-length within the family's width. A bare number is a hop count, not an address.
const isAddressOrCidr = (s: string) => {
  const [addr, prefix, ...rest] = s.split('/')
  const family = isIP(addr)
  if (!family || rest.length) return false
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128))
}
const cidrList = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
  .refine((list) => list.length > 0 && list.every(isAddressOrCidr),
    'must be a comma-separated list of IP addresses or CIDRs (hop counts and "true" are spoofable)')

// Buttons are white on the accent colour and links are the accent colour on white: both need WCAG AA contrast.
const accentColor = z.string().transform((v, ctx) => {
  const rgb = parseHex(v)
  if (!rgb) { ctx.addIssue({ code: 'custom', message: 'must be a hex colour such as #1d4ed8' }); return z.NEVER }
  const ratio = contrastRatio(rgb, WHITE)
  if (ratio < MIN_TEXT_CONTRAST) {
    ctx.addIssue({ code: 'custom', message: `${v} has a contrast of ${ratio.toFixed(2)}:1 with white; WCAG 2.2 AA needs at least ${MIN_TEXT_CONTRAST}:1 (pick a darker colour)` })
    return z.NEVER
  }
  return v.toLowerCase()
})
const originList = z.string().transform((v, ctx) => {
  const origins: string[] = []
  for (const item of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const url = URL.parse(item)
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== item.replace(/\/+$/, '')) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not an origin such as https://www.example.org` })
      return z.NEVER
    }
    origins.push(url.origin)
  }
  return origins
})

/** The consent wording variable of one language: CONSENT_TEXT_CY for Welsh, CONSENT_TEXT_EN for English. */
export const consentTextVariable = (lang: string): string => `CONSENT_TEXT_${lang.toUpperCase().replace(/-/g, '_')}`
const CONSENT_TEXT_PATTERN = /^CONSENT_TEXT_[A-Z_]+$/
// One per shipped language, so a language added as a folder in locales/ gets its variable too. Declared at run time,
// outside the static type: the transform below gathers them into consentTexts.
const consentTextVariables: Record<string, z.ZodOptional<z.ZodString>> = Object.fromEntries(Object.keys(LANGUAGES)
  .map((lang) => [consentTextVariable(lang), z.string().min(1).max(2000).optional()]))

const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' }).optional(),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_QUERY_TIMEOUT_MS: int(100, 600_000).default(10_000),
  // Staff CSV exports: how many at once (each on a database connection of its own), and how long one may send
  // nothing (a paused or stalled download) before it is cut.
  EXPORT_CONCURRENCY: int(1, 20).default(2),
  EXPORT_IDLE_TIMEOUT_SECONDS: int(1, 3600).default(20),
  // The largest CSV file POST /admin/api/imports takes, in MB: the body is streamed, never held whole.
  IMPORT_MAX_MB: int(1, 10_000).default(200),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional(),
  // With credentials in an smtp:// URL, STARTTLS is required before they are sent; false is for a local mail
  // catcher that offers no TLS (src/mail/transport.ts).
  SMTP_REQUIRE_TLS: bool.default(true),
  MAIL_FROM: z.string().min(3).optional(),
  // Unset: each page and mail uses its language's default name ("Mailing list"), and the start logs a warning.
  LIST_NAME: z.string().min(1).max(100).optional(),
  ADMIN_TOKEN: secret.optional(),
  METRICS_TOKEN: secret.optional(),
  TOKEN_SECRET: secret.optional(),
  // While TOKEN_SECRET is being replaced: what the old one signed (form stamps) and hashed (suppressions) still counts.
  TOKEN_SECRET_PREVIOUS: secret.optional(),
  CONFIRM_TTL_HOURS: int(1, 24 * 365).default(72),
  CONFIRM_COOLDOWN_MINUTES: int(0, 24 * 60).default(10),
  CONFIRM_DAILY_CAP: int(1, 100).default(3),
  CONFIRM_DOMAIN_HOURLY_CAP: int(0, 1_000_000).default(1000),
  SIGNUP_QUEUE_MAX: int(100, 10_000_000).default(10_000),
  WELCOME_EMAIL: bool.default(true),
  TRUST_PROXY: cidrList.optional(),
  CONSENT_TEXT: z.string().min(1).max(2000).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  WORKER: bool.default(true),
  WORKER_POLL_MS: int(50, 60_000).default(1000),
  SMTP_POOL_SIZE: int(1, 50).default(5),
  OUTBOX_LEASE_SECONDS: int(5, 3600).default(120),
  OUTBOX_RETRY_BASE_MS: int(10, 3_600_000).default(5000),
  OUTBOX_RETRY_MAX_MS: int(10, 86_400_000).default(15 * 60_000),
  OUTBOX_MAX_ATTEMPTS: int(1, 100).default(25),
  // Webhooks (docs/webhooks.md). Private targets are for tests and private networks only: they lift the check that
  // keeps webhooks off loopback, private, link-local and metadata addresses (and allow plain http).
  WEBHOOK_ALLOW_PRIVATE_TARGETS: bool.default(false),
  WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(5000),
  WEBHOOK_CONCURRENCY: int(1, 200).default(16),
  WEBHOOK_LEASE_SECONDS: int(2, 3600).default(60),
  WEBHOOK_RETRY_BASE_MS: int(10, 3_600_000).default(10_000),
  WEBHOOK_RETRY_MAX_MS: int(10, 86_400_000).default(3_600_000),
  WEBHOOK_MAX_ATTEMPTS: int(1, 100).default(20),
  WEBHOOK_LOG_DAYS: int(1, 3650).default(30),
  // Deliverability: DKIM signing, editable templates, Reply-To and a mailto unsubscribe.
  DKIM_DOMAIN: z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'must be a domain name such as example.org')
    .transform((v) => v.toLowerCase()).optional(),
  DKIM_SELECTOR: z.string().regex(/^[a-z0-9]([a-z0-9._-]{0,62})$/i, 'must be a DNS label such as joinlist2026').optional(),
  // .env files often hold a PEM on one line with literal \n.
  DKIM_PRIVATE_KEY: z.string().includes('PRIVATE KEY', { message: 'must be a PEM private key (-----BEGIN PRIVATE KEY-----…)' })
    .transform((v) => v.replace(/\\n/g, '\n')).optional(),
  DKIM_PRIVATE_KEY_FILE: z.string().min(1).optional(),
  MAIL_TEMPLATES_DIR: z.string().min(1).optional(),
  REPLY_TO: z.string().max(320).refine((v) => !CONTROL_CHARS.test(v), 'must not contain line breaks or control characters')
    .refine((v) => /@/.test(v), 'must be an email address, optionally with a name: Name <address@example.org>').optional(),
  UNSUBSCRIBE_MAILTO: z.email('must be an email address such as unsubscribe@example.org').max(254).optional(),
  // Retention of unconfirmed sign-ups.
  PENDING_RETENTION_DAYS: int(1, 3650).default(30),
  PURGE_INTERVAL_MINUTES: int(0, 7 * 24 * 60).default(60),
  // Abuse protections: see docs/security.md.
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  RATE_LIMIT_PREFIX: z.string().min(1).max(100).default('joinlist-rl:'),
  RATE_LIMIT_WINDOW_SECONDS: int(1, 86_400).default(60),
  RATE_LIMIT_SUBSCRIBE_MAX: int(1, 100_000).default(10),
  RATE_LIMIT_TOKEN_MAX: int(1, 100_000).default(30),
  RATE_LIMIT_STAFF_FAILURES: int(1, 1000).default(10),
  RATE_LIMIT_STAFF_WINDOW_SECONDS: int(1, 86_400).default(900),
  // Staff console sessions: idle and absolute expiry (OWASP Session Management Cheat Sheet, "Session Expiration").
  STAFF_SESSION_IDLE_MINUTES: int(1, 24 * 60).default(30),
  STAFF_SESSION_HOURS: int(1, 24 * 30).default(12),
  FORM_MIN_SECONDS: int(0, 3600).default(3),
  BLOCKLIST_FILE: z.string().min(1).optional(),
  ALLOWED_REDIRECT_ORIGINS: originList.default([]),
  // Pages and embedding.
  LOGO_URL: z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' }).optional(),
  ACCENT_COLOR: accentColor.default('#1d4ed8'),
  PRIVACY_URL: z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' }).optional(),
  ALLOWED_ORIGINS: originList.default([]),
  // auto (undefined here) follows the browser's Accept-Language.
  PAGE_LANGUAGE: z.string().toLowerCase().refine((v) => v === 'auto' || Object.hasOwn(LANGUAGES, v),
    `must be auto or one of ${Object.keys(LANGUAGES).join(', ')}`).default('auto').transform((v) => v === 'auto' ? undefined : v)
}).extend(consentTextVariables as Record<never, never>)

// PUBLIC_URL → publicUrl: each variable's name in code is its camel-cased environment name, so the schema above is
// the one place a variable is declared.
type Camel<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Lowercase<Head>}${Capitalize<Camel<Tail>>}` : Lowercase<S>
type CamelKeys<T> = { [K in keyof T & string as Camel<K>]: T[K] }
const camel = (name: string) => name.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())

const configSchema = envSchema.transform((e, ctx) => {
  const fail = (variable: string, message: string) => { ctx.addIssue({ code: 'custom', path: [variable], message }); return z.NEVER }
  if (e.DATABASE_URL && !e.TOKEN_SECRET) {
    return fail('TOKEN_SECRET', 'required when DATABASE_URL is set (at least 32 characters, the same on every instance)')
  }
  const dkimSet = [e.DKIM_DOMAIN, e.DKIM_SELECTOR, e.DKIM_PRIVATE_KEY ?? e.DKIM_PRIVATE_KEY_FILE].filter(Boolean).length
  if (dkimSet > 0 && dkimSet < 3) {
    return fail('DKIM_DOMAIN', 'DKIM needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY (or DKIM_PRIVATE_KEY_FILE) together')
  }
  if (e.DKIM_PRIVATE_KEY && e.DKIM_PRIVATE_KEY_FILE) {
    return fail('DKIM_PRIVATE_KEY_FILE', 'set either DKIM_PRIVATE_KEY or DKIM_PRIVATE_KEY_FILE, not both')
  }
  if (e.WEBHOOK_LEASE_SECONDS * 1000 <= e.WEBHOOK_TIMEOUT_MS) {
    return fail('WEBHOOK_LEASE_SECONDS', 'must be longer than WEBHOOK_TIMEOUT_MS, or a delivery still waiting for its answer would be sent again')
  }
  const config = Object.fromEntries(Object.entries(e).filter(([k]) => !CONSENT_TEXT_PATTERN.test(k))
    .map(([k, v]) => [camel(k), v])) as CamelKeys<typeof e>
  const ownConsentText = (lang: string) => (e as unknown as Record<string, string | undefined>)[consentTextVariable(lang)]
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '')
  const consentTexts = Object.fromEntries(Object.values(LANGUAGES).map((m) => [m.lang,
    ownConsentText(m.lang) ?? e.CONSENT_TEXT ?? m.t('consent.default', { list: e.LIST_NAME ?? m.t('consent.unnamedList') })]))
  return {
    ...config,
    publicUrl,
    mailFrom: e.MAIL_FROM ?? `${e.LIST_NAME ?? 'Mailing list'} <no-reply@${new URL(publicUrl).hostname}>`,
    consentText: consentTexts.en,
    // The wording next to the form in each language: that language's CONSENT_TEXT_<LANG> (CONSENT_TEXT_CY) when set,
    // else CONSENT_TEXT (the operator's own words, in every language), else the catalogue's default. Each distinct
    // text is stored as a consent version, and a sign-up records the one its page showed.
    consentTexts
  }
})

export type Env = Record<string, string | undefined>

/**
 * Reads `.env` from the current folder into the environment when there is one (`npm start`, `npm run dev` and the
 * CLI call it first); a variable already set in the environment wins over the file. No file, no message.
 */
export function loadDotEnv (file = '.env'): boolean {
  if (!existsSync(file)) return false
  const before = { ...process.env }
  process.loadEnvFile(file)
  Object.assign(process.env, before)
  return true
}
export type Config = z.output<typeof configSchema>

export class ConfigError extends Error {}

export function loadConfig (env: Env = process.env): Config {
  // Empty strings count as unset, as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const parsed = configSchema.safeParse(cleaned)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ConfigError(`${String(issue.path[0])}: ${issue.message}`)
  }
  return parsed.data
}

/**
 * The TOKEN_SECRET to use: the configured one, or in embedded mode one generated once and kept in DATA_DIR,
 * so links in mails keep working across restarts.
 */
export function resolveTokenSecret (config: Config): string {
  if (config.tokenSecret) return config.tokenSecret
  const file = join(config.dataDir, 'token-secret')
  try {
    return readFileSync(file, 'utf8').trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  mkdirSync(config.dataDir, { recursive: true })
  const secret = randomBytes(32).toString('base64url')
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' })
  return secret
}
