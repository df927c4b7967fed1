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

export function smtpMailer (smtpUrl: string, poolSize: number): Mailer {
  const url = new URL(smtpUrl)
  const transport = lazyTransport({
    pool: true,
    maxConnections: poolSize,
    maxMessages: Infinity,
    host: url.hostname,
    port: url.port ? Number(url.port) : (url.protocol === 'smtps:' ? 465 : 587),
    secure: url.protocol === 'smtps:',
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
      await (await transport.get()).sendMail(message)
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

/**
 * Whether a send error is permanent: an SMTP 5xx reply, or an envelope nodemailer refuses outright.
 * 4xx replies and network errors are temporary and retried (RFC 5321 §4.2.1: 4yz is a transient failure).
 */
export function isPermanentFailure (err: unknown): boolean {
  const e = err as { responseCode?: number, code?: string }
  if (typeof e.responseCode === 'number') return e.responseCode >= 500
  return e.code === 'EENVELOPE'
}
