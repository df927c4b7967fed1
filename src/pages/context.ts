// What every page needs from a request: the messages in the visitor's language, the links to the other languages,
// and the configured branding.
import type { FastifyRequest } from 'fastify'
import { LANGUAGES, messagesIn, pickLanguage, type Messages } from '../messages/index.js'
import type { LanguageLink, PageContext } from './layout.js'

/** The cookie that keeps a language chosen with `?lang=` for the rest of the visit. */
export const LANGUAGE_COOKIE = 'joinlist_lang'

const shipped = (v: unknown): v is string => typeof v === 'string' && Object.hasOwn(LANGUAGES, v.toLowerCase())

/**
 * The visitor's language: PAGE_LANGUAGE when set; else `?lang=` on this request; else the one chosen earlier in the
 * visit (the cookie); else the best match of Accept-Language (RFC 9110 §12.5.4); else English.
 */
export function languageOf (request: FastifyRequest): string {
  const fixed = request.server.config.pageLanguage
  if (fixed) return fixed
  // A form from another site says its page's language in a hidden field: the visitor's cookie is not sent there.
  // From the URL itself: a route's query schema drops parameters it does not name (the console's search form).
  const asked = new URLSearchParams(request.url.split('?')[1] ?? '').get('lang') ?? (request.body as Record<string, unknown> | undefined)?.lang
  if (shipped(asked)) return asked.toLowerCase()
  const chosen = cookieValue(request.headers.cookie, LANGUAGE_COOKIE)
  if (shipped(chosen)) return chosen.toLowerCase()
  return pickLanguage(request.headers['accept-language'], undefined)
}

export const requestMessages = (request: FastifyRequest): Messages => messagesIn(languageOf(request))

/** One cookie's value from a Cookie header (RFC 6265 §5.4), or undefined. */
export function cookieValue (header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** The same page in each other shipped language (none when PAGE_LANGUAGE fixes one). A POST's page links its form. */
function languageLinks (request: FastifyRequest, current: string): LanguageLink[] {
  if (request.server.config.pageLanguage) return []
  const url = new URL(request.url, 'http://x')
  const path = request.method === 'GET' || request.method === 'HEAD' ? url.pathname : url.pathname === '/subscribe' ? '/' : url.pathname
  return Object.values(LANGUAGES).filter((m) => m.lang !== current).map((m) => {
    const params = new URLSearchParams(request.method === 'GET' ? url.search : '')
    params.set('lang', m.lang)
    return { lang: m.lang, name: m.name, href: `${path}?${params}` }
  })
}

export function pageContext (request: FastifyRequest): PageContext {
  const config = request.server.config
  const m = requestMessages(request)
  return {
    m,
    languages: languageLinks(request, m.lang),
    brand: {
      listName: config.listName ?? m.t('meta.defaultListName'),
      logoUrl: config.logoUrl,
      accentColor: config.accentColor,
      privacyUrl: config.privacyUrl,
      consentText: config.consentTexts[m.lang] ?? config.consentText
    }
  }
}

/** Staff pages follow the same language choice as every other page, with the same switch. */
export const staffPageContext = (request: FastifyRequest): PageContext => pageContext(request)

/** The page context for one list's own page: its name, and its consent wording when it has its own. */
export const forList = (ctx: PageContext, list: { name: string, ownConsentText: string | null }): PageContext =>
  ({ ...ctx, brand: { ...ctx.brand, listName: list.name, consentText: list.ownConsentText ?? ctx.brand.consentText } })
