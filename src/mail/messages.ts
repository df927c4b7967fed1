// The mails Joinlist sends: a confirmation (transactional, no promotion) and a welcome (with one-click unsubscribe),
// rendered from the editable templates, with the headers RFC 5322, RFC 3834, RFC 2369/2919 and RFC 8058 ask for.
import type Mail from 'nodemailer/lib/mailer/index.js'
import type { Config } from '../config.js'
import { oneLine } from '../text.js'
import { dkimSigning, type DkimSigning } from './dkim.js'
import { LANGUAGES, LOCALES_DIR, messagesIn } from '../messages/index.js'
import { loadLanguageTemplates, renderPart, type MailKind, type MailTemplates, type TemplateView } from './templates.js'

/** Everything about sending that is fixed at start: sender, templates, DKIM. */
export interface MailSettings {
  /** LIST_NAME; unset, each language's default name. */
  listName?: string
  accentColor: string
  logoUrl?: string
  from: string
  /** The domain of the From address, parsed once: Message-IDs are made @ it (RFC 5322 §3.6.4), and List-Id under it. */
  fromDomain: string
  replyTo?: string
  unsubscribeMailto?: string
  /** Per language (a locales/ folder name). */
  templates: Record<string, MailTemplates>
  dkim?: DkimSigning
}

export interface MailContext extends MailSettings {
  to: { address: string, name?: string | null }
  /** The subscriber's language; NULL or one no longer shipped: English. */
  language?: string | null
  messageId: string
}

/** Loads and checks the templates and the DKIM key: throws (naming the file or variable) if either is unusable. */
export function mailSettings (config: Config): MailSettings {
  return {
    listName: config.listName,
    accentColor: config.accentColor,
    logoUrl: config.logoUrl,
    from: config.mailFrom,
    fromDomain: messageIdDomain(config),
    replyTo: config.replyTo,
    unsubscribeMailto: config.unsubscribeMailto,
    templates: loadLanguageTemplates(Object.keys(LANGUAGES), LOCALES_DIR, config.mailTemplatesDir),
    dkim: dkimSigning(config)
  }
}

/** The English default name of a list: a list without a name of its own when LIST_NAME is unset (staff see it). */
export const UNNAMED_LIST = messagesIn('en').t('meta.defaultListName')

/** The list's name in the subscriber's language: LIST_NAME, or that language's default. */
export const listNameIn = (ctx: Pick<MailContext, 'listName' | 'language'>): string =>
  ctx.listName ?? messagesIn(ctx.language).t('meta.defaultListName')

function compose (ctx: MailContext, kind: MailKind, values: TemplateView, withName: boolean): Mail.Options {
  const name = withName && ctx.to.name ? oneLine(ctx.to.name) : ''
  const lang = messagesIn(ctx.language).lang
  const template = (ctx.templates[lang] ?? ctx.templates.en)[kind]
  const view = { list_name: listNameIn(ctx), accent_color: ctx.accentColor, logo_url: ctx.logoUrl, ...values }
  return {
    from: ctx.from,
    // The subscriber's name only ever travels as an address object: nodemailer quotes or encodes it, and it can
    // never start a header of its own (header injection, OWASP ASVS 5.0 1.3.11).
    to: name ? { name, address: ctx.to.address } : ctx.to.address,
    replyTo: ctx.replyTo,
    // Stored on the outbox row, so a retry is the same message; @ the sending domain (RFC 5322 §3.6.4).
    messageId: ctx.messageId,
    date: new Date(),
    subject: renderPart(template, 'subject', view),
    // Both parts: nodemailer builds multipart/alternative with text/plain first and HTML last (RFC 2046 §5.1.4).
    text: renderPart(template, 'text', view),
    html: renderPart(template, 'html', view),
    // RFC 3834 §5: automatically generated, not a reply. Content-Language (RFC 3282) lets clients offer translation.
    headers: { 'Auto-Submitted': 'auto-generated', 'Content-Language': lang },
    dkim: ctx.dkim
  }
}

/** The sending domain: Message-IDs are made @ it (RFC 5322 §3.6.4); PUBLIC_URL's host when MAIL_FROM has none. */
export const messageIdDomain = (config: Pick<Config, 'mailFrom' | 'publicUrl'>): string =>
  senderDomain(config.mailFrom, new URL(config.publicUrl).hostname)

/** The domain of a From value (`Name <a@b>` or `a@b`), or the fallback when it has none. */
export const senderDomain = (from: string, fallback: string) => (/<([^>]+)>/.exec(from)?.[1] ?? from).split('@')[1] ?? fallback

/**
 * RFC 2919 List-Id: `<label.sender-domain>`. It names the list for filters, and a List-Unsubscribe without it
 * reads as an incomplete list mail to SpamAssassin (LIST_PARTIAL_SHORT_MSG).
 */
export function listId (ctx: Pick<MailContext, 'listName' | 'fromDomain' | 'language'>): string {
  const label = (ctx.listName ?? UNNAMED_LIST).toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'list'
  return `${label}.${ctx.fromDomain.toLowerCase()}`
}

/** `manageUrl`: the preference page, in mails of a deployment with several lists. */
export function confirmationMail (ctx: MailContext, confirmUrl: string, ttlHours: number, manageUrl?: string): Mail.Options {
  // Transactional: no List-Unsubscribe, no promotion (Gmail and Yahoo sender guidelines treat it as a form
  // confirmation). It goes to an address nobody has confirmed yet, so nothing the sign-up typed is in it, not even the
  // name: anyone could otherwise put text of their choosing into a mail to any address.
  return compose(ctx, 'confirmation', { link: confirmUrl, ttl_hours: ttlHours, manage_url: manageUrl }, false)
}

/**
 * A new member of staff's one-time link to set a password. Transactional like the confirmation (no List-Unsubscribe):
 * it goes to one person because an owner asked for it.
 */
export function staffInviteMail (ctx: MailContext, link: string, ttlHours: number): Mail.Options {
  return compose(ctx, 'staff-invite', { link, ttl_hours: ttlHours }, false)
}

export function welcomeMail (ctx: MailContext, unsubscribeUrl: string, manageUrl?: string): Mail.Options {
  // The welcome mail goes only to people who confirmed: their name is theirs.
  const mail = compose(ctx, 'welcome', { name: ctx.to.name ?? undefined, unsubscribe_url: unsubscribeUrl, manage_url: manageUrl }, true)
  // RFC 8058 / RFC 2369: one List-Unsubscribe with one https URL (and optionally a mailto:), plus the one-click
  // POST header (RFC 8058 §3.1). The inner array keeps both URIs in a single header line.
  const uris = [unsubscribeUrl]
  if (ctx.unsubscribeMailto) uris.push(`mailto:${ctx.unsubscribeMailto}?subject=unsubscribe`)
  mail.list = { id: { url: listId(ctx), comment: listNameIn(ctx) }, unsubscribe: [uris] }
  mail.headers = { ...mail.headers as Record<string, string>, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }
  return mail
}
