// What every page needs from a request: the messages in the visitor's language and the configured branding.
import type { FastifyRequest } from 'fastify'
import { messagesFor } from '../messages/index.js'
import type { PageContext } from './layout.js'

export function pageContext (request: FastifyRequest): PageContext {
  const config = request.server.config
  return {
    m: messagesFor(request.headers['accept-language'], config.pageLanguage),
    brand: {
      listName: config.listName,
      logoUrl: config.logoUrl,
      accentColor: config.accentColor,
      privacyUrl: config.privacyUrl,
      consentText: config.consentText
    }
  }
}

/** The page context for one list's own page: its name, and its consent wording when it has its own. */
export const forList = (ctx: PageContext, list: { name: string, ownConsentText: string | null }): PageContext =>
  ({ ...ctx, brand: { ...ctx.brand, listName: list.name, consentText: list.ownConsentText ?? ctx.brand.consentText } })
