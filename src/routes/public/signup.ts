// The sign-up form (GET /), POST /subscribe (JSON or an HTML form) and the "check your email" page.
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { parseEmail } from '../../domain/email.js'
import { SignupQueueFull } from '../../domain/signup-writer.js'
import { messagesFor } from '../../messages/index.js'
import { signupPage, thanksPage, type ListChoice, type SignupForm } from '../../pages/subscriber.js'
import { forList, pageContext } from '../../pages/context.js'
import type { List } from '../../domain/lists.js'
import { ClientError, isFormPost, sendHtml } from '../../http.js'
import { errorBody, errors, page } from '../../openapi.js'
import { routeLimit } from '../../plugins/rate-limits.js'
import { checkFormStamp, formStamp, HONEYPOT_FIELD, isBlockedDomain, loadBlocklist, STAMP_FIELD } from '../../security/bots.js'
import { safeRedirect } from '../../security/redirect.js'
import { CONTROL_CHARS, LONE_SURROGATE } from '../../text.js'
import { crossOrigin } from './index.js'

// Names and sources go into mail headers, pages and CSV cells: no line breaks or control characters (header
// injection, OWASP ASVS 5.0 1.3.11).
const plainText = (what: string, max: number) => z.string({ error: `${what} must be text.` }).trim()
  .max(max, `${what} is too long (at most ${max} characters).`)
  .refine((v) => !CONTROL_CHARS.test(v), `${what} must not contain line breaks or control characters.`)
  .refine((v) => !v.match(LONE_SURROGATE), `${what} contains a broken character (a lone UTF-16 surrogate): send valid Unicode text.`)

export const signupBody = z.object({
  email: z.string({ error: 'Enter your email address.' }).max(1000, 'The email address is too long (at most 254 characters).')
    .transform((v, ctx) => {
      const r = parseEmail(v)
      if (!r.ok) { ctx.addIssue({ code: 'custom', message: r.message }); return z.NEVER }
      return r
    }),
  name: plainText('The name', 100).optional(),
  source: plainText('The source', 64).optional(),
  // The lists to join, by slug: a JSON array, or repeated `lists` fields (checkboxes) in a form. None: the default lists.
  lists: z.union([z.string().max(63), z.array(z.string().max(63)).max(50)],
    { error: 'lists must be an array of list slugs (at most 50), such as ["weekly", "events"].' })
    .optional().transform((v) => v === undefined ? undefined : Array.isArray(v) ? v : [v]),
  // Sent by a form that showed the lists as checkboxes: ticking none is then a mistake to point out.
  lists_shown: z.string().max(10).optional(),
  // Bot filters and the optional redirect. Any other field is ignored: zod strips unknown keys.
  [HONEYPOT_FIELD]: z.unknown().optional(),
  [STAMP_FIELD]: z.string().max(100).optional(),
  redirect: z.string().max(2000).optional()
})

export const acceptedBody = z.object({ status: z.literal('pending'), message: z.string() })
  .describe('JSON request: accepted, a confirmation mail is on its way if the address can join')
export const ACCEPTED_MESSAGE = 'Thanks! If the address can join the list, a link to confirm has been emailed to it: check your inbox.'

export default async function signupRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  const { config } = app
  const { secrets } = app.lifecycle
  const blocklist = config.blocklistFile ? loadBlocklist(config.blocklistFile) : new Set<string>()
  const ownOrigin = new URL(config.publicUrl).origin

  function botReason (body: z.infer<typeof signupBody>): string | undefined {
    const honeypot = body[HONEYPOT_FIELD]
    if (honeypot !== undefined && honeypot !== null && honeypot !== '') return 'honeypot'
    const stamp = checkFormStamp(secrets, body[STAMP_FIELD], app.now(), config.formMinSeconds)
    if (stamp === 'tampered' || stamp === 'too-fast') return `form-stamp-${stamp}`
    if (isBlockedDomain(blocklist, body.email.normalized.slice(body.email.normalized.lastIndexOf('@') + 1))) return 'blocklist'
    return undefined
  }

  /**
   * A form posted from a page on another website is refused unless that site is in ALLOWED_ORIGINS: otherwise any
   * website could make its visitors' browsers sign strangers up, from as many addresses as it has visitors (OWASP
   * Cross-Site Request Forgery Prevention Cheat Sheet). Scripts (no Origin, no Sec-Fetch-Site) are not affected.
   */
  async function sameSiteForms (request: FastifyRequest) {
    if (!isFormPost(request)) return
    // Sec-Fetch-Site first: our own pages send no Referer (Referrer-Policy: no-referrer), which makes a browser send
    // `Origin: null` with their form posts (Fetch Standard, "serializing a request origin").
    const site = request.headers['sec-fetch-site']
    const origin = request.headers.origin
    const fromAllowedSite = origin !== undefined && config.allowedOrigins.includes(origin)
    const allowed = site !== undefined
      ? site === 'same-origin' || site === 'none' || fromAllowedSite
      : origin === undefined || origin === ownOrigin || fromAllowedSite
    if (!allowed) throw new ClientError(403, 'cross_site', messagesFor(request.headers['accept-language'], config.pageLanguage).signup.crossSite(config.publicUrl))
  }

  // A form post with a field to fix gets the form again, with the message next to the field (the GOV.UK error
  // summary pattern); everything else goes to the app's error handler.
  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    if (!hasZodFastifySchemaValidationErrors(err) || !isFormPost(request)) throw err
    const issue = err.validation[0]
    const field = issue.instancePath.replace(/^\//, '').split('/')[0] || 'email'
    const body = (request.body ?? {}) as Record<string, unknown>
    const text = (k: string) => typeof body[k] === 'string' ? body[k] as string : undefined
    const asked = typeof body.lists === 'string' ? [body.lists] : Array.isArray(body.lists) ? body.lists.map(String) : undefined
    return sendHtml(reply, 400, await formPage(request, {
      email: text('email'),
      name: text('name'),
      source: text('source'),
      error: { field, message: issue.message ?? 'Check the value of this field.' }
    }, asked))
  })

  const choiceOf = (l: List): ListChoice => ({ slug: l.slug, name: l.name, description: l.description, consentText: l.ownConsentText ?? undefined })

  /**
   * The sign-up page again, as the visitor sent it: the checkboxes they ticked when there are several lists, or the
   * page of the one list they were joining.
   */
  async function formPage (request: FastifyRequest, form: SignupForm, asked: string[] | undefined): Promise<string> {
    const ctx = pageContext(request)
    const offered = await app.lists.offered()
    // A form without the checkboxes that named one list was that list's own page.
    const posted = request.method === 'POST' ? request.body as Record<string, unknown> | undefined : undefined
    if (posted && !posted.lists_shown && asked?.length === 1) {
      const one = offered.find((l) => l.slug === asked[0])
      if (one && offered.length > 1) return signupPage(forList(ctx, one), { ...form, list: one.slug })
    }
    if (offered.length < 2) return signupPage(ctx, form)
    return signupPage(ctx, { ...form, choice: { lists: offered.map(choiceOf), chosen: asked ?? [] } })
  }

  /** The lists a sign-up joins, or a 400 that names what to fix. */
  async function chosenLists (request: FastifyRequest, body: z.infer<typeof signupBody>): Promise<List[]> {
    const m = messagesFor(request.headers['accept-language'], config.pageLanguage)
    if (body.lists_shown && !body.lists?.length) throw new ListsRefused(m.signup.listsNone, body.lists)
    const result = await app.lists.forSignup(body.lists)
    if ('refused' in result) throw new ListsRefused(m.signup.listsRefused(result.refused.join(', ')), body.lists)
    return result.lists
  }

  app.get('/', {
    schema: {
      tags: ['pages'],
      summary: 'The signup page',
      description: 'An HTML form that posts to /subscribe; works without JavaScript. `?source=` is kept in a hidden field.',
      response: { 200: page('The signup form') }
    }
  }, async (request, reply) => {
    const { source } = request.query as { source?: string }
    const defaults = (await app.lists.offered()).filter((l) => l.isDefault).map((l) => l.slug)
    return sendHtml(reply, 200, await formPage(request, {
      source: typeof source === 'string' ? source.slice(0, 64) : undefined,
      formStamp: formStamp(secrets, app.now())
    }, defaults))
  })

  app.get('/l/:slug', {
    schema: {
      tags: ['pages'],
      summary: 'The signup page of one list',
      description: 'The form joins only this list. Hidden and archived lists have no page (404).',
      params: z.object({ slug: z.string().max(63) }),
      response: { 200: page('The signup form of one list'), 404: page('No such list') }
    }
  }, async (request, reply) => {
    const list = (await app.lists.offered()).find((l) => l.slug === request.params.slug)
    if (!list) throw new ClientError(404, 'not_found', 'There is no list at this address.')
    const { source } = request.query as { source?: string }
    return sendHtml(reply, 200, signupPage(forList(pageContext(request), list), {
      list: list.slug,
      source: typeof source === 'string' ? source.slice(0, 64) : undefined,
      formStamp: formStamp(secrets, app.now())
    }))
  })

  app.get('/subscribe/thanks', {
    schema: { tags: ['pages'], summary: 'The "check your email" page', response: { 200: page('Check your email') } }
  }, async (request, reply) => sendHtml(reply, 200, thanksPage(pageContext(request))))

  // The CORS preflight for cross-origin JavaScript, answered by @fastify/cors from this route's config.
  app.options('/subscribe', { config: crossOrigin(config.allowedOrigins), schema: { hide: true } },
    async (request, reply) => reply.callNotFound())

  app.post('/subscribe', {
    config: { ...crossOrigin(config.allowedOrigins), rateLimit: routeLimit(config, config.rateLimitSubscribeMax) },
    onRequest: sameSiteForms,
    schema: {
      tags: ['public'],
      summary: 'Sign up an address',
      description: "JSON or a urlencoded form. Always the same answer whatever the address's state (no account enumeration, CWE-204); a confirmation mail goes out asynchronously. Cross-origin JavaScript calls are allowed from ALLOWED_ORIGINS only (CORS).",
      body: signupBody,
      response: {
        202: acceptedBody,
        303: z.null().optional().describe('Form post: redirect to /subscribe/thanks'),
        400: errors[400],
        403: errorBody('A form posted from a page on a website not in ALLOWED_ORIGINS.'),
        413: errors[413],
        415: errors[415],
        429: errors[429],
        503: errors[503]
      }
    }
  }, async (request, reply) => {
    const { email, name, source } = request.body
    let lists: List[]
    try {
      lists = await chosenLists(request, request.body)
    } catch (err) {
      if (!(err instanceof ListsRefused)) throw err
      if (!isFormPost(request)) throw new ClientError(400, 'invalid_lists', err.message)
      return sendHtml(reply, 400, await formPage(request, {
        email: email.email, name, source, formStamp: formStamp(secrets, app.now()), error: { field: 'lists', message: err.message }
      }, err.asked))
    }
    const bot = botReason(request.body)
    if (bot === 'form-stamp-too-fast' && isFormPost(request)) {
      // A person whose browser filled the form in and sent it at once: never dropped silently. They get the form
      // back as they typed it, with a fresh stamp, and pass by pressing the button; a blind bot does not.
      return sendHtml(reply, 400, await formPage(request, {
        email: email.email,
        name,
        source,
        formStamp: formStamp(secrets, app.now()),
        error: { field: 'subscribe', message: pageContext(request).m.signup.tooFast }
      }, request.body.lists))
    }
    if (bot) {
      // One line, no address: the same answer as a real sign-up, and nothing stored or sent.
      request.log.info({ reason: bot }, 'sign-up dropped as a likely bot')
    } else {
      await app.signups.subscribe({
        email: email.email,
        emailNormalized: email.normalized,
        name: name || undefined,
        source: source || undefined,
        ip: request.ip,
        userAgent: request.headers['user-agent']?.slice(0, 500),
        method: isFormPost(request) ? 'form' : 'api',
        form: request.headers.origin?.slice(0, 200),
        listIds: lists.map((l) => l.id)
      }).catch((err: unknown) => {
        if (err instanceof SignupQueueFull) throw new ClientError(503, 'overloaded', err.message, 5)
        throw err
      })
      app.outbox.kick()
    }
    // The same answer whatever the address's state (CWE-204).
    if (isFormPost(request)) {
      const target = safeRedirect(request.body.redirect, config.publicUrl, config.allowedRedirectOrigins)
      return reply.code(303).header('location', target ?? '/subscribe/thanks').send(null)
    }
    return reply.code(202).send({ status: 'pending' as const, message: ACCEPTED_MESSAGE })
  })
}

/** The lists a sign-up asked for cannot be joined (unknown, hidden, archived, or none ticked). */
class ListsRefused extends Error {
  constructor (message: string, readonly asked: string[] | undefined) { super(message) }
}
