// The visitor's side: the signup page and POST /subscribe (JSON or an HTML form).
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { parseEmail } from '../domain/email.js'
import { LONE_SURROGATE } from '../domain/subscribers.js'
import { signupPage, thanksPage } from '../pages/subscriber.js'
import { pageContext } from '../pages/context.js'
import { isFormPost, sendHtml } from '../http.js'
import { checkFormStamp, formStamp, HONEYPOT_FIELD, isBlockedDomain, loadBlocklist, STAMP_FIELD } from '../security/bots.js'
import { safeRedirect } from '../security/redirect.js'

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/
// Names and sources go into mail headers, pages and CSV cells: no line breaks or control characters (STANDARDS C21).
const plainText = (what: string, max: number) => z.string({ error: `${what} must be text.` }).trim()
  .max(max, `${what} is too long (at most ${max} characters).`)
  .refine((v) => !CONTROL.test(v), `${what} must not contain line breaks or control characters.`)
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
  // Bot filters and the optional redirect (issue #3). Any other field is ignored: zod strips unknown keys.
  [HONEYPOT_FIELD]: z.unknown().optional(),
  [STAMP_FIELD]: z.string().max(100).optional(),
  redirect: z.string().max(2000).optional()
})

export const acceptedBody = z.object({ status: z.literal('pending'), message: z.string() })
export const ACCEPTED_MESSAGE = 'Thanks! If the address can join the list, a link to confirm has been emailed to it: check your inbox.'

export default async function publicRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()

  const blocklist = app.config.blocklistFile ? loadBlocklist(app.config.blocklistFile) : new Set<string>()

  function botReason (body: z.infer<typeof signupBody>): string | undefined {
    const honeypot = body[HONEYPOT_FIELD]
    if (honeypot !== undefined && honeypot !== null && honeypot !== '') return 'honeypot'
    const stamp = checkFormStamp(app.config.tokenSecret, body[STAMP_FIELD], app.now(), app.config.formMinSeconds)
    if (stamp === 'tampered' || stamp === 'too-fast') return `form-stamp-${stamp}`
    if (isBlockedDomain(blocklist, body.email.normalized.slice(body.email.normalized.lastIndexOf('@') + 1))) return 'blocklist'
    return undefined
  }

  app.get('/', async (request, reply) => {
    const { source } = request.query as { source?: string }
    return sendHtml(reply, 200, signupPage(pageContext(request), {
      source: typeof source === 'string' ? source.slice(0, 64) : undefined,
      formStamp: formStamp(app.config.tokenSecret, app.now())
    }))
  })

  app.get('/subscribe/thanks', async (request, reply) => sendHtml(reply, 200, thanksPage(pageContext(request))))

  app.post('/subscribe', {
    schema: { body: signupBody, response: { 202: acceptedBody, 303: z.null().optional() } }
  }, async (request, reply) => {
    const { email, name, source } = request.body
    const bot = botReason(request.body)
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
        form: request.headers.origin?.slice(0, 200)
      })
      app.outbox.kick()
    }
    // The same answer whatever the address's state (STANDARDS C16).
    if (isFormPost(request)) {
      const target = safeRedirect(request.body.redirect, app.config.publicUrl, app.config.allowedRedirectOrigins)
      return reply.code(303).header('location', target ?? '/subscribe/thanks').send(null)
    }
    return reply.code(202).send({ status: 'pending' as const, message: ACCEPTED_MESSAGE })
  })
}
