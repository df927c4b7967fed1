// Sample mails: each template rendered with made-up data, for the staff preview and the spam check.
import { randomBytes } from 'node:crypto'
import type Mail from 'nodemailer/lib/mailer/index.js'
import { PASSWORD_LINK_HOURS } from '../domain/staff.js'
import { confirmationMail, staffInviteMail, welcomeMail, type MailSettings } from './messages.js'
import { MAIL_KINDS, type MailKind } from './templates.js'

export const MAIL_KIND_NAMES = Object.keys(MAIL_KINDS) as MailKind[]

export const isMailKind = (v: string): v is MailKind => Object.hasOwn(MAIL_KINDS, v)

/** One mail as it would go out, with sample data that looks like a real subscriber's (links are not live). */
export function sampleMail (settings: MailSettings, kind: MailKind,
  opts: { publicUrl: string, confirmTtlHours: number, language?: string }): Mail.Options {
  const ctx = {
    ...settings,
    language: opts.language,
    to: { address: 'jane.doe@example.org', name: 'Jane Doe' },
    messageId: `<sample-${randomBytes(8).toString('hex')}@${settings.fromDomain}>`
  }
  // 43 characters like a real token, so line lengths and link shapes match real mail.
  const token = 'SAMPLE-' + randomBytes(27).toString('base64url')
  if (kind === 'confirmation') return confirmationMail(ctx, `${opts.publicUrl}/confirm/${token}`, opts.confirmTtlHours)
  if (kind === 'staff-invite') return staffInviteMail(ctx, `${opts.publicUrl}/admin/password/${token}`, PASSWORD_LINK_HOURS)
  return welcomeMail(ctx, `${opts.publicUrl}/unsubscribe/${token}`)
}

/** The raw RFC 5322 message nodemailer would send (DKIM-signed when configured), CRLF line ends. */
export async function rawMessage (message: Mail.Options): Promise<Buffer> {
  // Loaded on use (staff preview, spam check), not at start: it is a sizeable share of an idle process's memory.
  const { default: nodemailer } = await import('nodemailer')
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' })
  const info = await transport.sendMail(message)
  return info.message as Buffer
}
