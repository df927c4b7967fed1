// Mail templates staff can edit: Mustache files (subject, text, HTML) per mail, checked once at start.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import escapeHtml from 'escape-html'
import Mustache from 'mustache'
import { oneLine } from '../text.js'

/** The English templates shipped with Joinlist (each language's are in locales/<lang>/mail/). */
export const DEFAULT_TEMPLATES_DIR = fileURLToPath(new URL('../../locales/en/mail/', import.meta.url))

/** Each mail, the placeholders it may use, and the one its body must contain (the reason the mail exists). */
export const MAIL_KINDS = {
  // No {{name}}: the confirmation mail goes to an unconfirmed address (src/mail/messages.ts says why).
  // manage_url: the preference page, set only when there are several lists.
  confirmation: { allowed: ['list_name', 'link', 'ttl_hours', 'manage_url', 'accent_color', 'logo_url'], required: 'link' },
  welcome: { allowed: ['list_name', 'name', 'unsubscribe_url', 'manage_url', 'accent_color', 'logo_url'], required: 'unsubscribe_url' },
  // To a new member of staff: their one-time link to set a password. A MAIL_TEMPLATES_DIR made before this mail
  // existed lacks it: the shipped one is used then.
  'staff-invite': { allowed: ['list_name', 'link', 'ttl_hours', 'accent_color', 'logo_url'], required: 'link', shippedFallback: true }
} as const

export type MailKind = keyof typeof MAIL_KINDS
export type Part = 'subject' | 'text' | 'html'
export const PARTS: Record<Part, string> = { subject: 'subject.txt', text: 'txt', html: 'html' }

export type MailTemplate = Record<Part, string>
export type MailTemplates = Record<MailKind, MailTemplate>
export type TemplateView = Record<string, string | number | undefined>

/** A template problem found at start: the message names the file, so staff know what to fix. */
export class TemplateError extends Error {}

type Token = [string, string, number, number, Token[]?]

/** Every placeholder in a parsed template, with how it is written ('name' escaped, '&' raw, '#' section, …). */
function placeholders (tokens: Token[], out: Array<{ kind: string, name: string }> = []) {
  for (const token of tokens) {
    if (token[0] === 'text') continue
    out.push({ kind: token[0], name: token[1] })
    if (token[4]) placeholders(token[4], out)
  }
  return out
}

function check (kind: MailKind, part: Part, file: string, source: string): void {
  let tokens: Token[]
  try {
    tokens = Mustache.parse(source) as unknown as Token[]
  } catch (err) {
    throw new TemplateError(`${file}: not a valid template (${(err as Error).message.split('\n')[0]})`)
  }
  const { allowed, required } = MAIL_KINDS[kind]
  const used = placeholders(tokens)
  for (const p of used) {
    if (p.kind === '!' || p.kind === '=') continue
    if (p.kind === '>') throw new TemplateError(`${file}: partials ({{> ${p.name}}}) are not supported`)
    if (!(allowed as readonly string[]).includes(p.name)) {
      throw new TemplateError(`${file}: unknown placeholder {{${p.name}}}; this mail has ${allowed.map((a) => `{{${a}}}`).join(', ')}`)
    }
    // In HTML everything is escaped: {{{name}}} would let a subscriber's name inject markup.
    if (part === 'html' && p.kind === '&') {
      throw new TemplateError(`${file}: write {{${p.name}}}, not {{{${p.name}}}}: values in HTML are always escaped`)
    }
  }
  const hasRequired = used.some((p) => p.name === required && (p.kind === 'name' || p.kind === '&'))
  if (part !== 'subject' && !hasRequired) {
    throw new TemplateError(`${file}: must contain the {{${required}}} placeholder (without it the mail is useless)`)
  }
  if (part === 'subject' && used.some((p) => p.name === required)) {
    throw new TemplateError(`${file}: the subject must not contain {{${required}}}`)
  }
}

/**
 * Reads and checks every template in dir (MAIL_TEMPLATES_DIR, else the shipped ones). Throws a TemplateError
 * naming the file on the first problem, so a broken edit stops the process at start, not at the first send.
 */
export function loadTemplates (dir: string = DEFAULT_TEMPLATES_DIR, shippedDir: string = DEFAULT_TEMPLATES_DIR): MailTemplates {
  const templates = {} as MailTemplates
  for (const kind of Object.keys(MAIL_KINDS) as MailKind[]) {
    const template = {} as MailTemplate
    const from = 'shippedFallback' in MAIL_KINDS[kind] && !existsSync(join(dir, `${kind}.${PARTS.text}`)) ? shippedDir : dir
    for (const part of Object.keys(PARTS) as Part[]) {
      const file = join(from, `${kind}.${PARTS[part]}`)
      let source: string
      try {
        source = readFileSync(file, 'utf8')
      } catch (err) {
        throw new TemplateError(`${file}: cannot read the mail template (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
      }
      check(kind, part, file, source)
      template[part] = source
    }
    templates[kind] = template
  }
  return templates
}

/**
 * The templates of every shipped language: `<MAIL_TEMPLATES_DIR>/<lang>/` when that folder exists, else the six
 * files directly in MAIL_TEMPLATES_DIR for English (its layout before there were languages), else the shipped
 * `locales/<lang>/mail/`.
 */
export function loadLanguageTemplates (languages: string[], localesDir: string, overrideDir?: string): Record<string, MailTemplates> {
  const out: Record<string, MailTemplates> = {}
  for (const lang of languages) {
    const own = overrideDir && existsSync(join(overrideDir, lang)) ? join(overrideDir, lang) : undefined
    const flat = overrideDir && lang === 'en' && existsSync(join(overrideDir, 'confirmation.html')) ? overrideDir : undefined
    const shipped = join(localesDir, lang, 'mail')
    out[lang] = loadTemplates(own ?? flat ?? shipped, shipped)
  }
  return out
}

// Names come from subscribers: never let one carry a control character into a header or a line (header injection,
// OWASP ASVS 5.0 1.3.11).
const clean = (v: string | number | undefined) => v === undefined ? undefined : oneLine(String(v))

/** Renders one part: HTML escapes every value; text and subject take values as they are. */
export function renderPart (template: MailTemplate, part: Part, view: TemplateView): string {
  const values = Object.fromEntries(Object.entries(view).map(([k, v]) => [k, clean(v) || undefined]))
  const escape = part === 'html' ? (v: unknown) => escapeHtml(String(v)) : (v: unknown) => String(v)
  const out = Mustache.render(template[part], values, {}, { escape })
  // A subject is one line (RFC 5322 unstructured field): fold any template line breaks into spaces.
  return part === 'subject' ? out.replace(/\s+/g, ' ').trim() : out
}
