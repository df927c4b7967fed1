// The sign-up form (GET /), POST /subscribe (JSON or an HTML form) and the "check your email" page. Messages are
// catalogue keys until answered, then in the visitor's language.
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { parseEmail } from '../../domain/email.js'
import { SignupQueueFull } from '../../domain/signup-writer.js'
import { suggestAddress } from '../../domain/typos.js'
import { duration, type Messages } from '../../messages/index.js'
import { signupPage, thanksPage, type ListChoice, type SignupForm } from '../../pages/subscriber.js'
import { cookieValue, forList, languageOf, pageContext, requestMessages } from '../../pages/context.js'
import { seal, unseal } from '../../crypto.js'
import type { List } from '../../domain/lists.js'
import { ClientError, isFormPost, sendHtml } from '../../http.js'
import { errorBody, errors, page, pageOrJson } from '../../openapi.js'
import { routeLimit } from '../../plugins/rate-limits.js'
import { checkFormStamp, formStamp, HONEYPOT_FIELD, isBlockedDomain, loadBlocklist, STAMP_FIELD } from '../../security/bots.js'
import { safeRedirect } from '../../security/redirect.js'
import { CONTROL_CHARS, LONE_SURROGATE } from '../../text.js'
import { crossOrigin } from './index.js'

// Names and sources go into mail headers, pages and CSV cells: no line breaks or control characters (header
// injection, OWASP ASVS 5.0 1.3.11).
const plainText = (what: 'name' | 'source', max: number) => z.string({ error: `validation.${what}Text` }).trim()
  .max(max, `validation.${what}TooLong`)
  .refine((v) => !CONTROL_CHARS.test(v), `validation.${what}Control`)
  .refine((v) => !v.match(LONE_SURROGATE), `validation.${what}Broken`)

/** A validation message in the visitor's language: the schema's messages are catalogue keys. */
export const translated = (m: Messages, message: string | undefined): string =>
  !message ? m.t('api.checkField') : m.has(message) ? m.t(message) : message

export const signupBody = z.object({
  email: z.string({ error: 'validation.emailMissing' }).max(1000, 'validation.emailTooLong')
    .transform((v, ctx) => {
      const r = parseEmail(v)
      if (!r.ok) { ctx.addIssue({ code: 'custom', message: `validation.${r.key}` }); return z.NEVER }
      return r
    }),
  name: plainText('name', 100).optional(),
  source: plainText('source', 64).optional(),
  // The language of the page the form is on (a shipped catalogue; anything else is ignored): the mails follow it.
  lang: z.string().max(20).optional(),
  // The visitor has seen the "did you mean …?" question and chose: do not ask again.
  checked: z.string().max(1).optional(),
  // JSON callers that can ask the visitor (embed.js) send suggest=1 to get "did you mean …?" before the sign-up.
  suggest: z.string().max(1).optional(),
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

/**
 * What the "check your email" page may show: what the visitor typed and the page they came from, sealed (crypto.ts
 * `seal`) into a cookie for an hour. Not in the URL, where proxies and browser history would keep the address; set
 * only as the answer to the visitor's own sign-up, so it needs no consent (PECR's "strictly necessary" exemption).
 */
interface ThanksState { email: string, name?: string, source?: string, back?: string, lists?: string[] }
const THANKS_MAX_AGE_MS = 60 * 60_000
const THANKS_COOKIE = 'joinlist_thanks'

export default async function signupRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  const { config } = app
  const { secrets } = app.lifecycle
  const blocklist = config.blocklistFile ? loadBlocklist(config.blocklistFile) : new Set<string>()
  const ownOrigin = new URL(config.publicUrl).origin
  const secure = config.publicUrl.startsWith('https:') ? '; Secure' : ''

  function thanksState (request: FastifyRequest): ThanksState | undefined {
    const sealed = cookieValue(request.headers.cookie, THANKS_COOKIE)
    return sealed ? unseal<ThanksState>(config.tokenSecret, sealed, app.now(), THANKS_MAX_AGE_MS) : undefined
  }

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
    if (!allowed) throw new ClientError(403, 'cross_site', requestMessages(request).t('signup.crossSite', { site: config.publicUrl }))
  }

  // A form post with a field to fix gets the form again, with the message next to the field (the GOV.UK error
  // summary pattern); everything else goes to the app's error handler.
  // A rate-limited form post keeps what was typed too (the limit is counted once the body is read).
  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    const limited = err.statusCode === 429
    if ((!hasZodFastifySchemaValidationErrors(err) && !limited) || !isFormPost(request)) throw err
    const m = requestMessages(request)
    const body = (request.body ?? {}) as Record<string, unknown>
    const text = (k: string) => typeof body[k] === 'string' ? body[k] as string : undefined
    const asked = typeof body.lists === 'string' ? [body.lists] : Array.isArray(body.lists) ? body.lists.map(String) : undefined
    const typed: SignupForm = { email: text('email'), name: text('name'), source: text('source'), redirect: text('redirect') }
    if (limited) {
      const retryAfter = Number(reply.getHeader('retry-after')) || config.rateLimitWindowSeconds
      return sendHtml(reply, 429, await formPage(request, {
        ...typed, formStamp: formStamp(secrets, app.now()), error: { field: 'subscribe', message: m.t('signup.tooMany', { wait: duration(m, retryAfter) }) }
      }, asked))
    }
    const issue = (err as unknown as { validation: { instancePath: string, message?: string }[] }).validation[0]
    const field = issue.instancePath.replace(/^\//, '').split('/')[0] || 'email'
    return sendHtml(reply, 400, await formPage(request, { ...typed, error: { field, message: translated(m, issue.message) } }, asked))
  })

  /** The page of an allowed site the form was on (Referer, else Origin), for a "back to …" link. */
  function formOrigin (request: FastifyRequest): string | undefined {
    const allowed = [...config.allowedOrigins, ...config.allowedRedirectOrigins]
    const referer = URL.parse(request.headers.referer ?? '')
    if (referer && allowed.includes(referer.origin)) return referer.href
    const origin = request.headers.origin
    return origin && allowed.includes(origin) ? `${origin}/` : undefined
  }
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
    const m = requestMessages(request)
    if (body.lists_shown && !body.lists?.length) throw new ListsRefused(m.t('signup.listsNone'), body.lists)
    const result = await app.lists.forSignup(body.lists)
    if ('refused' in result) throw new ListsRefused(m.t('signup.listsRefused', { slugs: result.refused.join(', ') }), body.lists)
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
    const { source, again } = request.query as { source?: string, again?: string }
    // "Wrong address? Go back": the form again with what was typed.
    const previous = again === '1' ? thanksState(request) : undefined
    const defaults = (await app.lists.offered()).filter((l) => l.isDefault).map((l) => l.slug)
    return sendHtml(reply, 200, await formPage(request, {
      email: previous?.email,
      name: previous?.name,
      source: previous?.source ?? (typeof source === 'string' ? source.slice(0, 64) : undefined),
      formStamp: formStamp(secrets, app.now())
    }, previous?.lists ?? defaults))
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
    if (!list) throw new ClientError(404, 'not_found', requestMessages(request).t('api.notFound'))
    const { source } = request.query as { source?: string }
    return sendHtml(reply, 200, signupPage(forList(pageContext(request), list), {
      list: list.slug,
      source: typeof source === 'string' ? source.slice(0, 64) : undefined,
      formStamp: formStamp(secrets, app.now())
    }))
  })

  app.get('/subscribe/thanks', {
    schema: {
      tags: ['pages'],
      summary: 'The "check your email" page',
      description: 'Names the address the visitor typed, from the sealed `joinlist_thanks` cookie the form post set.',
      response: { 200: page('Check your email') }
    }
  }, async (request, reply) => {
    const state = thanksState(request)
    const back = state?.back ? URL.parse(state.back) : null
    return sendHtml(reply, 200, thanksPage(pageContext(request), {
      email: state?.email,
      again: state ? '/?again=1' : undefined,
      back: back ? { href: back.href, site: back.host } : undefined
    }))
  })

  // The CORS preflight for cross-origin JavaScript, answered by @fastify/cors from this route's config.
  app.options('/subscribe', { config: crossOrigin(config.allowedOrigins), schema: { hide: true } },
    async (request, reply) => reply.callNotFound())

  app.post('/subscribe', {
    // Counted once the body is read (preValidation), so a refused form post can be shown again as typed.
    config: { ...crossOrigin(config.allowedOrigins), rateLimit: { ...routeLimit(config, config.rateLimitSubscribeMax), hook: 'preValidation' as const } },
    onRequest: sameSiteForms,
    schema: {
      tags: ['public'],
      summary: 'Sign up an address',
      description: "JSON or a urlencoded form. Always the same answer whatever the address's state (no account enumeration, CWE-204); a confirmation mail goes out asynchronously. Cross-origin JavaScript calls are allowed from ALLOWED_ORIGINS only (CORS).",
      body: signupBody,
      response: {
        202: acceptedBody,
        200: pageOrJson('A likely typo in the address (a form post, or JSON with suggest=1): "did you mean …?", nothing stored yet',
          z.object({ status: z.literal('check'), suggestion: z.string(), message: z.string(), use: z.string(), keep: z.string() })),
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
    const m = requestMessages(request)
    let lists: List[]
    try {
      lists = await chosenLists(request, request.body)
    } catch (err) {
      if (!(err instanceof ListsRefused)) throw err
      if (!isFormPost(request)) throw new ClientError(400, 'invalid_lists', err.message)
      return sendHtml(reply, 400, await formPage(request, {
        email: email.email, name, source, redirect: request.body.redirect, formStamp: formStamp(secrets, app.now()), error: { field: 'lists', message: err.message }
      }, err.asked))
    }
    const asks = isFormPost(request) || request.body.suggest === '1'
    const suggestion = asks && !request.body.checked ? suggestAddress(email.email) : undefined
    if (suggestion && !isFormPost(request)) {
      return reply.code(200).send({
        status: 'check' as const,
        suggestion,
        message: m.t('signup.suggest', { suggestion }),
        use: m.t('signup.useSuggestion', { suggestion }),
        keep: m.t('signup.keepTyped', { email: email.email })
      })
    }
    if (suggestion) {
      // Nothing is stored or sent yet: the visitor picks the address, and may keep their own spelling.
      return sendHtml(reply, 200, await formPage(request, {
        email: email.email, name, source, redirect: request.body.redirect, suggestion, formStamp: request.body[STAMP_FIELD]
      }, request.body.lists))
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
        error: { field: 'subscribe', message: m.t('signup.tooFast') }
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
        language: languageOf(request),
        source: source || undefined,
        ip: request.ip,
        userAgent: request.headers['user-agent']?.slice(0, 500),
        method: isFormPost(request) ? 'form' : 'api',
        form: request.headers.origin?.slice(0, 200),
        listIds: lists.map((l) => l.id)
      }).catch((err: unknown) => {
        if (err instanceof SignupQueueFull) throw new ClientError(503, 'overloaded', m.t('api.overloaded'), 5)
        throw err
      })
      app.outbox.kick()
    }
    // The same answer whatever the address's state (CWE-204).
    if (isFormPost(request)) {
      const target = safeRedirect(request.body.redirect, config.publicUrl, config.allowedRedirectOrigins)
      if (!target) {
        const state: ThanksState = { email: email.email, name: name || undefined, source: source || undefined, back: formOrigin(request), lists: request.body.lists }
        reply.header('set-cookie', `${THANKS_COOKIE}=${seal(config.tokenSecret, state, app.now())}; Path=/; Max-Age=${THANKS_MAX_AGE_MS / 1000}; SameSite=Lax; HttpOnly${secure}`)
      }
      return reply.code(303).header('location', target ?? '/subscribe/thanks').send(null)
    }
    return reply.code(202).send({ status: 'pending' as const, message: m.t('api.accepted') })
  })
}

/** The lists a sign-up asked for cannot be joined (unknown, hidden, archived, or none ticked). */
class ListsRefused extends Error {
  constructor (message: string, readonly asked: string[] | undefined) { super(message) }
}
