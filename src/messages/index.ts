// Picks the page language: PAGE_LANGUAGE when set, else the best match of Accept-Language among the shipped
// languages (RFC 9110 §12.5.4), else English. Adding a language = adding a file like ./en.ts and one line here.
import { en, type Messages } from './en.js'

export type { Messages } from './en.js'

export const LANGUAGES: Record<string, Messages> = { en }

/** The language tags of an Accept-Language header, best first (q=0 means "not this one"). */
export function acceptedLanguages (header: string | undefined): string[] {
  if (!header) return []
  return header.split(',').map((part, index) => {
    const [tag, ...params] = part.trim().split(';')
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/i.exec(p)).find(Boolean)
    return { tag: tag.trim().toLowerCase(), q: q ? Number(q[1]) : 1, index }
  }).filter((l) => l.tag && l.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index)
    .map((l) => l.tag)
}

/** The shipped language for this request: `en-GB` matches `en`; `*` or nothing matches the default. */
export function pickLanguage (acceptLanguage: string | undefined, fixed: string | undefined,
  available: Record<string, unknown> = LANGUAGES): string {
  if (fixed && fixed in available) return fixed
  for (const tag of acceptedLanguages(acceptLanguage)) {
    if (tag in available) return tag
    const primary = tag.split('-')[0]
    if (primary in available) return primary
  }
  return 'en'
}

export function messagesFor (acceptLanguage: string | undefined, fixed: string | undefined): Messages {
  return LANGUAGES[pickLanguage(acceptLanguage, fixed)]
}
