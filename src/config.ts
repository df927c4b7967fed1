// Configuration: parsed once from the environment; a bad value stops the process with one line naming it.
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { z } from 'zod'

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/
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

const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' }).optional(),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional(),
  MAIL_FROM: z.string().min(3).optional(),
  LIST_NAME: z.string().min(1).max(100).default('Our mailing list'),
  ADMIN_TOKEN: secret.optional(),
  TOKEN_SECRET: secret.optional(),
  CONFIRM_TTL_HOURS: int(1, 24 * 365).default(72),
  CONFIRM_COOLDOWN_MINUTES: int(0, 24 * 60).default(10),
  CONFIRM_DAILY_CAP: int(1, 100).default(3),
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
  // Deliverability (issue 8): DKIM signing, editable templates, Reply-To and a mailto unsubscribe.
  DKIM_DOMAIN: z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'must be a domain name such as example.org').optional(),
  DKIM_SELECTOR: z.string().regex(/^[a-z0-9]([a-z0-9._-]{0,62})$/i, 'must be a DNS label such as joinlist2026').optional(),
  DKIM_PRIVATE_KEY: z.string().includes('PRIVATE KEY', { message: 'must be a PEM private key (-----BEGIN PRIVATE KEY-----…)' }).optional(),
  DKIM_PRIVATE_KEY_FILE: z.string().min(1).optional(),
  MAIL_TEMPLATES_DIR: z.string().min(1).optional(),
  REPLY_TO: z.string().max(320).refine((v) => !CONTROL.test(v), 'must not contain line breaks or control characters')
    .refine((v) => /@/.test(v), 'must be an email address, optionally with a name: Name <address@example.org>').optional(),
  UNSUBSCRIBE_MAILTO: z.email('must be an email address such as unsubscribe@example.org').max(254).optional(),
  // Issue #7 (privacy): retention of unconfirmed sign-ups.
  PENDING_RETENTION_DAYS: int(1, 3650).default(30),
  PURGE_INTERVAL_MINUTES: int(0, 7 * 24 * 60).default(60),
  // Abuse protections (issue #3): see the README's Security section.
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  RATE_LIMIT_PREFIX: z.string().min(1).max(100).default('joinlist-rl:'),
  RATE_LIMIT_WINDOW_SECONDS: int(1, 86_400).default(60),
  RATE_LIMIT_SUBSCRIBE_MAX: int(1, 100_000).default(10),
  RATE_LIMIT_TOKEN_MAX: int(1, 100_000).default(30),
  RATE_LIMIT_STAFF_FAILURES: int(1, 1000).default(10),
  RATE_LIMIT_STAFF_WINDOW_SECONDS: int(1, 86_400).default(900),
  FORM_MIN_SECONDS: int(0, 3600).default(3),
  BLOCKLIST_FILE: z.string().min(1).optional(),
  ALLOWED_REDIRECT_ORIGINS: z.string().transform((v, ctx) => {
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
  }).optional()
})

export type Env = Record<string, string | undefined>

export interface Config {
  port: number
  host: string
  publicUrl: string
  databaseUrl?: string
  dataDir: string
  smtpUrl?: string
  mailFrom: string
  listName: string
  adminToken?: string
  tokenSecret?: string
  confirmTtlHours: number
  confirmCooldownMinutes: number
  confirmDailyCap: number
  welcomeEmail: boolean
  trustProxy?: string[]
  consentText: string
  logLevel: string
  worker: boolean
  workerPollMs: number
  smtpPoolSize: number
  outboxLeaseSeconds: number
  outboxRetryBaseMs: number
  outboxRetryMaxMs: number
  outboxMaxAttempts: number
  /** DKIM signing, when DKIM_DOMAIN is set; the key is read and checked at start (src/mail/dkim.ts). */
  dkim?: { domain: string, selector: string, privateKey?: string, privateKeyFile?: string }
  mailTemplatesDir?: string
  replyTo?: string
  unsubscribeMailto?: string
  pendingRetentionDays: number
  purgeIntervalMinutes: number,
  redisUrl?: string
  rateLimit: {
    prefix: string
    windowSeconds: number
    subscribeMax: number
    tokenMax: number
    staffFailures: number
    staffWindowSeconds: number
  }
  formMinSeconds: number
  blocklistFile?: string
  allowedRedirectOrigins: string[]
}

export class ConfigError extends Error {}

export function loadConfig (env: Env = process.env): Config {
  // Empty strings count as unset, as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const parsed = envSchema.safeParse(cleaned)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ConfigError(`${String(issue.path[0])}: ${issue.message}`)
  }
  const e = parsed.data
  if (e.DATABASE_URL && !e.TOKEN_SECRET) {
    throw new ConfigError('TOKEN_SECRET: required when DATABASE_URL is set (at least 32 characters, the same on every instance)')
  }
  const dkimSet = [e.DKIM_DOMAIN, e.DKIM_SELECTOR, e.DKIM_PRIVATE_KEY ?? e.DKIM_PRIVATE_KEY_FILE].filter(Boolean).length
  if (dkimSet > 0 && dkimSet < 3) {
    throw new ConfigError('DKIM_DOMAIN: DKIM needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY (or DKIM_PRIVATE_KEY_FILE) together')
  }
  if (e.DKIM_PRIVATE_KEY && e.DKIM_PRIVATE_KEY_FILE) {
    throw new ConfigError('DKIM_PRIVATE_KEY_FILE: set either DKIM_PRIVATE_KEY or DKIM_PRIVATE_KEY_FILE, not both')
  }
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '')
  const listName = e.LIST_NAME
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM ?? `${listName} <no-reply@${new URL(publicUrl).hostname}>`,
    listName,
    adminToken: e.ADMIN_TOKEN,
    tokenSecret: e.TOKEN_SECRET,
    confirmTtlHours: e.CONFIRM_TTL_HOURS,
    confirmCooldownMinutes: e.CONFIRM_COOLDOWN_MINUTES,
    confirmDailyCap: e.CONFIRM_DAILY_CAP,
    welcomeEmail: e.WELCOME_EMAIL,
    trustProxy: e.TRUST_PROXY,
    consentText: e.CONSENT_TEXT ?? `I agree to receive emails from ${listName}. I can unsubscribe at any time with the link in every email.`,
    logLevel: e.LOG_LEVEL,
    worker: e.WORKER,
    workerPollMs: e.WORKER_POLL_MS,
    smtpPoolSize: e.SMTP_POOL_SIZE,
    outboxLeaseSeconds: e.OUTBOX_LEASE_SECONDS,
    outboxRetryBaseMs: e.OUTBOX_RETRY_BASE_MS,
    outboxRetryMaxMs: e.OUTBOX_RETRY_MAX_MS,
    outboxMaxAttempts: e.OUTBOX_MAX_ATTEMPTS,
    dkim: e.DKIM_DOMAIN && e.DKIM_SELECTOR
      ? {
          domain: e.DKIM_DOMAIN.toLowerCase(),
          selector: e.DKIM_SELECTOR,
          // .env files often hold a PEM on one line with literal \n.
          privateKey: e.DKIM_PRIVATE_KEY?.replace(/\\n/g, '\n'),
          privateKeyFile: e.DKIM_PRIVATE_KEY_FILE
        }
      : undefined,
    mailTemplatesDir: e.MAIL_TEMPLATES_DIR,
    replyTo: e.REPLY_TO,
    unsubscribeMailto: e.UNSUBSCRIBE_MAILTO,
    pendingRetentionDays: e.PENDING_RETENTION_DAYS,
    purgeIntervalMinutes: e.PURGE_INTERVAL_MINUTES,
    redisUrl: e.REDIS_URL,
    rateLimit: {
      prefix: e.RATE_LIMIT_PREFIX,
      windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS,
      subscribeMax: e.RATE_LIMIT_SUBSCRIBE_MAX,
      tokenMax: e.RATE_LIMIT_TOKEN_MAX,
      staffFailures: e.RATE_LIMIT_STAFF_FAILURES,
      staffWindowSeconds: e.RATE_LIMIT_STAFF_WINDOW_SECONDS
    },
    formMinSeconds: e.FORM_MIN_SECONDS,
    blocklistFile: e.BLOCKLIST_FILE,
    allowedRedirectOrigins: e.ALLOWED_REDIRECT_ORIGINS ?? []
  }
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
