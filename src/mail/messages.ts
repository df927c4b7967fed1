// The mails Joinlist sends: a confirmation (transactional, no promotion) and a welcome (with one-click unsubscribe).
import type Mail from 'nodemailer/lib/mailer/index.js'
import { html, layoutMail } from '../html.js'

export interface MailContext {
  listName: string
  from: string
  to: { address: string, name?: string | null }
  messageId: string
}

const common = (ctx: MailContext): Mail.Options => ({
  from: ctx.from,
  to: ctx.to.name ? { name: ctx.to.name, address: ctx.to.address } : ctx.to.address,
  messageId: ctx.messageId,
  date: new Date(),
  // RFC 3834 §5: automatically generated, not a reply.
  headers: { 'Auto-Submitted': 'auto-generated' }
})

export function confirmationMail (ctx: MailContext, confirmUrl: string, ttlHours: number): Mail.Options {
  const greeting = ctx.to.name ? `Hello ${ctx.to.name},` : 'Hello,'
  return {
    ...common(ctx),
    subject: `Confirm your subscription to ${ctx.listName}`,
    text: `${greeting}

Someone, hopefully you, asked to join the ${ctx.listName} mailing list with this address.
To confirm, open this link and press "Confirm subscription":

${confirmUrl}

The link works for ${ttlHours} hours. If you did not ask for this, ignore this email: you will not be added.
`,
    html: layoutMail(ctx.listName, html`
      <p>${greeting}</p>
      <p>Someone, hopefully you, asked to join the ${ctx.listName} mailing list with this address.</p>
      <p><a href="${confirmUrl}" style="display:inline-block;padding:10px 16px;background:#1d4ed8;color:#ffffff;text-decoration:none;border-radius:4px">Confirm subscription</a></p>
      <p>Or open this link: <a href="${confirmUrl}">${confirmUrl}</a></p>
      <p>The link works for ${String(ttlHours)} hours. If you did not ask for this, ignore this email: you will not be added.</p>`)
  }
}

export function welcomeMail (ctx: MailContext, unsubscribeUrl: string): Mail.Options {
  const base = common(ctx)
  return {
    ...base,
    subject: `Welcome to ${ctx.listName}`,
    // RFC 8058 / RFC 2369: one https URL, and the one-click POST header (STANDARDS A1).
    list: { unsubscribe: { url: unsubscribeUrl, comment: 'Unsubscribe' } },
    headers: { ...base.headers as Record<string, string>, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    text: `You're subscribed to ${ctx.listName}. Thank you for confirming.

You can leave at any time: ${unsubscribeUrl}
`,
    html: layoutMail(ctx.listName, html`
      <p>You're subscribed to ${ctx.listName}. Thank you for confirming.</p>
      <p style="font-size:13px;color:#555555">You can leave at any time: <a href="${unsubscribeUrl}">unsubscribe</a>.</p>`)
  }
}
