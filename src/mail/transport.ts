// Mail transports: SMTP through nodemailer's pool, or (embedded mode) a local mailbox of .eml files.
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import type Mail from 'nodemailer/lib/mailer/index.js'

export interface Mailer {
  kind: 'smtp' | 'mailbox'
  send(message: Mail.Options): Promise<void>
  close(): void
}

export function smtpMailer (smtpUrl: string, poolSize: number): Mailer {
  const url = new URL(smtpUrl)
  const transport = nodemailer.createTransport({
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
  return {
    kind: 'smtp',
    async send (message) { await transport.sendMail(message) },
    close () { transport.close() }
  }
}

/** Writes every message to DATA_DIR/mail/ as an .eml file a mail client can open. */
export function mailboxMailer (dir: string): Mailer {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
  let ready: Promise<unknown> | undefined
  return {
    kind: 'mailbox',
    async send (message) {
      ready ??= mkdir(dir, { recursive: true })
      await ready
      const info = await transport.sendMail(message)
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
 * 4xx replies and network errors are temporary and retried (STANDARDS F32).
 */
export function isPermanentFailure (err: unknown): boolean {
  const e = err as { responseCode?: number, code?: string }
  if (typeof e.responseCode === 'number') return e.responseCode >= 500
  return e.code === 'EENVELOPE'
}
