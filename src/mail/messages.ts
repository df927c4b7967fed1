// The mails Joinlist sends: a confirmation (transactional, no promotion) and a welcome (with one-click unsubscribe),
// rendered from the editable templates, with exactly the headers STANDARDS A1–A9 ask for.
import type Mail from 'nodemailer/lib/mailer/index.js'
import type { Config } from '../config.js'
import { dkimSigning, type DkimSigning } from './dkim.js'
import { DEFAULT_TEMPLATES_DIR, loadTemplates, renderPart, type MailTemplate, type MailTemplates, type TemplateView } from './templates.js'

/** Everything about sending that is fixed at start: sender, templates, DKIM. */
export interface MailSettings {
  listName: string
  from: string
  replyTo?: string
  unsubscribeMailto?: string
  templates: MailTemplates
  dkim?: DkimSigning
}

export interface MailContext extends MailSettings {
  to: { address: string, name?: string | null }
  messageId: string
}

/** Loads and checks the templates and the DKIM key: throws (naming the file or variable) if either is unusable. */
export function mailSettings (config: Config): MailSettings {
  return {
    listName: config.listName,
    from: config.mailFrom,
    replyTo: config.replyTo,
    unsubscribeMailto: config.unsubscribeMailto,
    templates: loadTemplates(config.mailTemplatesDir ?? DEFAULT_TEMPLATES_DIR),
    dkim: dkimSigning(config)
  }
}

// eslint-disable-next-line no-control-regex
const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim()

function compose (ctx: MailContext, template: MailTemplate, view: TemplateView): Mail.Options {
  const name = ctx.to.name ? oneLine(ctx.to.name) : ''
  return {
    from: ctx.from,
    // The subscriber's name only ever travels as an address object: nodemailer quotes or encodes it, and it can
    // never start a header of its own (STANDARDS C21).
    to: name ? { name, address: ctx.to.address } : ctx.to.address,
    replyTo: ctx.replyTo,
    // Stored on the outbox row, so a retry is the same message (STANDARDS F33), @ the sending domain (A7).
    messageId: ctx.messageId,
    date: new Date(),
    subject: renderPart(template, 'subject', view),
    // Both parts: nodemailer builds multipart/alternative with text/plain first and HTML last (RFC 2046, A9).
    text: renderPart(template, 'text', view),
    html: renderPart(template, 'html', view),
    // RFC 3834 §5: automatically generated, not a reply (A8).
    headers: { 'Auto-Submitted': 'auto-generated' },
    dkim: ctx.dkim
  }
}

/** The domain of the From address: Message-IDs are made @ it (STANDARDS A7), and List-Id under it. */
export const senderDomain = (from: string) => (/<([^>]+)>/.exec(from)?.[1] ?? from).split('@')[1] ?? 'localhost'

/**
 * RFC 2919 List-Id: `<label.sender-domain>`. It names the list for filters, and a List-Unsubscribe without it
 * reads as an incomplete list mail to SpamAssassin (LIST_PARTIAL_SHORT_MSG).
 */
export function listId (ctx: Pick<MailSettings, 'listName' | 'from'>): string {
  const label = ctx.listName.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'list'
  return `${label}.${senderDomain(ctx.from).toLowerCase()}`
}

export function confirmationMail (ctx: MailContext, confirmUrl: string, ttlHours: number): Mail.Options {
  // Transactional: no List-Unsubscribe, no promotion (STANDARDS A10).
  return compose(ctx, ctx.templates.confirmation, {
    list_name: ctx.listName, name: ctx.to.name ?? undefined, link: confirmUrl, ttl_hours: ttlHours
  })
}

export function welcomeMail (ctx: MailContext, unsubscribeUrl: string): Mail.Options {
  const mail = compose(ctx, ctx.templates.welcome, {
    list_name: ctx.listName, name: ctx.to.name ?? undefined, unsubscribe_url: unsubscribeUrl
  })
  // RFC 8058 / RFC 2369: one List-Unsubscribe with one https URL (and optionally a mailto:), plus the one-click
  // POST header (STANDARDS A1). The inner array keeps both URIs in a single header line.
  const uris = [unsubscribeUrl]
  if (ctx.unsubscribeMailto) uris.push(`mailto:${ctx.unsubscribeMailto}?subject=unsubscribe`)
  mail.list = { id: { url: listId(ctx), comment: ctx.listName }, unsubscribe: [uris] }
  mail.headers = { ...mail.headers as Record<string, string>, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }
  return mail
}
