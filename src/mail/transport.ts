// Mail transports: SMTP through nodemailer's pool, or (embedded mode) a local mailbox of .eml files.
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type Mail from 'nodemailer/lib/mailer/index.js'

/**
 * A nodemailer transport created with the first mail. nodemailer is loaded then, not at start: a process that only
 * takes sign-ups (WORKER=false) never needs it, and it is a sizeable share of an idle process's memory.
 */
function lazyTransport (options: object) {
  let transport: Promise<Mail> | undefined
  return {
    get: () => (transport ??= import('nodemailer').then((m) => m.default.createTransport(options))),
    close: () => { transport?.then((t) => t.close(), () => {}) }
  }
}

export interface Mailer {
  kind: 'smtp' | 'mailbox'
  send(message: Mail.Options): Promise<void>
  close(): void
}

export interface SmtpOptions {
  /** SMTP_REQUIRE_TLS: with credentials in an smtp:// URL, send them only after STARTTLS (default true). */
  requireTls?: boolean
}

export function smtpMailer (smtpUrl: string, poolSize: number, opts: SmtpOptions = {}): Mailer {
  const url = new URL(smtpUrl)
  const secure = url.protocol === 'smtps:'
  // nodemailer upgrades with STARTTLS only when the server offers it, and otherwise sends AUTH (the password, in
  // base64) over the plain connection: anyone on the path could read it (RFC 8314 §3; RFC 4954 §4). With
  // credentials, STARTTLS is required unless the operator opts out for a local mail catcher.
  const requireTLS = !secure && !!url.username && opts.requireTls !== false
  const transport = lazyTransport({
    pool: true,
    maxConnections: poolSize,
    maxMessages: Infinity,
    host: url.hostname,
    port: url.port ? Number(url.port) : (secure ? 465 : 587),
    secure,
    requireTLS,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000
  })
  let closed = false
  return {
    kind: 'smtp',
    async send (message) {
      // After close, no new pool may be created that nobody would close.
      if (closed) throw new Error('the mailer is closed')
      try {
        await (await transport.get()).sendMail(message)
      } catch (err) {
        throw requireTLS && isTlsFailure(err) ? noTlsError(url, err) : err
      }
    },
    close () {
      closed = true
      transport.close()
    }
  }
}

/** Writes every message to DATA_DIR/mail/ as an .eml file a mail client can open. */
export function mailboxMailer (dir: string): Mailer {
  const transport = lazyTransport({ streamTransport: true, buffer: true, newline: 'unix' })
  let ready: Promise<unknown> | undefined
  return {
    kind: 'mailbox',
    async send (message) {
      ready ??= mkdir(dir, { recursive: true })
      await ready
      const info = await (await transport.get()).sendMail(message)
      const stamp = new Date().toISOString().replace(/[:.]/g, '-')
      const id = String(info.messageId).replace(/[^A-Za-z0-9@.-]/g, '')
      // Written aside, then renamed: a mail client (or a test) watching the folder never opens a half-written file.
      const file = join(dir, `${stamp}-${id}.eml`)
      await writeFile(`${file}.tmp`, info.message as Buffer)
      await rename(`${file}.tmp`, file)
    },
    close () {}
  }
}

const isTlsFailure = (err: unknown) => (err as { code?: string } | null)?.code === 'ETLS'

/** What the operator reads in the outbox and the log when the server would not start TLS. */
function noTlsError (url: URL, cause: unknown): Error {
  const said = (cause as Error).message
  return Object.assign(new Error(`SMTP server ${url.host} did not start TLS (STARTTLS), so the SMTP_URL credentials were not sent: ` +
    `enable STARTTLS on the server or use smtps://, or for a local mail catcher set SMTP_REQUIRE_TLS=false. (${said})`), { code: 'ETLS', cause })
}

/**
 * Whether a send error is permanent: an SMTP 5xx reply, or an envelope nodemailer refuses outright.
 * 4xx replies and network errors are temporary and retried (RFC 5321 §4.2.1: 4yz is a transient failure), and so
 * is a failed TLS upgrade, even with a 5xx to STARTTLS: it is about the connection, not this message, and the
 * mail goes out once the server or the settings are fixed.
 */
export function isPermanentFailure (err: unknown): boolean {
  const e = err as { responseCode?: number, code?: string }
  if (isTlsFailure(err)) return false
  if (typeof e.responseCode === 'number') return e.responseCode >= 500
  return e.code === 'EENVELOPE'
}
