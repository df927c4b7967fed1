// The language switch: `?lang=cy` on any page is kept for the rest of the visit in a session cookie, so the next page
// (and the mails of a sign-up made then) are in that language too. The cookie is set only at the visitor's request and
// only remembers that choice, so it needs no consent (ICO guidance on PECR's "strictly necessary" exemption).
import fp from 'fastify-plugin'
import { LANGUAGES } from '../messages/index.js'
import { LANGUAGE_COOKIE } from '../pages/context.js'

export default fp(async (app) => {
  const secure = app.config.publicUrl.startsWith('https:') ? '; Secure' : ''
  app.addHook('onRequest', async (request, reply) => {
    // Pages differ by these two headers: a shared cache must not hand one visitor's language to another.
    reply.header('vary', 'Accept-Language, Cookie')
    if (app.config.pageLanguage) return
    const asked = (request.query as Record<string, unknown> | undefined)?.lang
    if (typeof asked === 'string' && Object.hasOwn(LANGUAGES, asked.toLowerCase())) {
      reply.header('set-cookie', `${LANGUAGE_COOKIE}=${asked.toLowerCase()}; Path=/; SameSite=Lax; HttpOnly${secure}`)
    }
  })
}, { name: 'language' })
