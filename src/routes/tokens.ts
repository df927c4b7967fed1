// The subscriber's links: confirm and unsubscribe. GET and HEAD only show a page with a button; only POST
// changes anything, because mail security scanners fetch every link (STANDARDS D26, A4). POST /unsubscribe is
// also the RFC 8058 one-click target (STANDARDS A3).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { confirm, unsubscribe } from '../domain/subscribers.js'
import { erase } from '../domain/privacy.js'
import { TOKEN_PATTERN, verifyUnsubscribeToken } from '../domain/tokens.js'
import { confirmedPage, confirmPage, erasedPage, invalidLinkPage, unsubscribedPage, unsubscribePage } from '../pages/subscriber.js'
import { pageContext } from '../pages/context.js'
import { BODY_LIMIT, sendHtml, wantsHtml } from '../http.js'

const tokenParams = z.object({ token: z.string() })

export default async function tokenRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()

  // RFC 8058 §3.2: mailbox providers may post the one-click body as multipart/form-data. Only its presence
  // matters, so it is read as text (within the body limit), on these routes only.
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: BODY_LIMIT },
    (_req, body, done) => done(null, { multipart: body }))

  const answer = (request: FastifyRequest, reply: FastifyReply, status: number, json: object, page: string) =>
    wantsHtml(request) || request.headers.accept === undefined ? sendHtml(reply, status, page) : reply.code(status).send(json)

  const invalid = (request: FastifyRequest, reply: FastifyReply, expired = false) =>
    answer(request, reply, expired ? 410 : 404,
      { error: expired ? 'expired' : 'invalid_link', message: expired ? 'This link has expired: sign up again for a new one.' : 'This link does not work. Sign up again for a new one.' },
      invalidLinkPage(pageContext(request), expired))

  app.get('/confirm/:token', { schema: { params: tokenParams } }, async (request, reply) => {
    if (!TOKEN_PATTERN.test(request.params.token)) return invalid(request, reply)
    return sendHtml(reply, 200, confirmPage(pageContext(request), `/confirm/${request.params.token}`))
  })

  app.post('/confirm/:token', { schema: { params: tokenParams } }, async (request, reply) => {
    const { token } = request.params
    if (!TOKEN_PATTERN.test(token)) return invalid(request, reply)
    const result = await confirm(app.lifecycle, token, { ip: request.ip, userAgent: request.headers['user-agent']?.slice(0, 500) })
    if (result === 'invalid' || result === 'expired') return invalid(request, reply, result === 'expired')
    if (result === 'confirmed') app.outbox.kick()
    const already = result === 'already-confirmed'
    return answer(request, reply, 200, { status: 'confirmed', alreadyConfirmed: already }, confirmedPage(pageContext(request), already))
  })

  app.get('/unsubscribe/:token', { schema: { params: tokenParams } }, async (request, reply) => {
    if (!verifyUnsubscribeToken(app.config.tokenSecret, request.params.token)) return invalid(request, reply)
    return sendHtml(reply, 200, unsubscribePage(pageContext(request), `/unsubscribe/${request.params.token}`))
  })

  app.post('/unsubscribe/:token', { schema: { params: tokenParams } }, async (request, reply) => {
    const publicId = verifyUnsubscribeToken(app.config.tokenSecret, request.params.token)
    // "Also delete my data" (issue #7): the page's second button sends erase=1; a one-click POST never does.
    if (publicId && wantsErasure(request.body)) {
      const deps = { database: app.database, now: app.now, tokenSecret: app.config.tokenSecret, suppressionPads: app.lifecycle.suppressionPads }
      if (!await erase(deps, { publicId }, { actor: 'subscriber', method: 'self-service' })) return invalid(request, reply)
      return answer(request, reply, 200, { status: 'erased' }, erasedPage(pageContext(request)))
    }
    if (!publicId || !await unsubscribe(app.lifecycle, publicId, isOneClick(request.body) ? 'one-click' : 'link', evidenceOf(request))) {
      return invalid(request, reply)
    }
    // 200 and never a redirect, so mailbox providers see success (RFC 8058 §3.1).
    return answer(request, reply, 200, { status: 'unsubscribed' }, unsubscribedPage(pageContext(request)))
  })
}

const evidenceOf = (request: FastifyRequest) => ({ ip: request.ip, userAgent: request.headers['user-agent']?.slice(0, 500) })

function wantsErasure (body: unknown): boolean {
  return !!body && typeof body === 'object' && (body as Record<string, unknown>).erase === '1'
}

function isOneClick (body: unknown): boolean {
  if (!body || typeof body !== 'object') return false
  const b = body as Record<string, unknown>
  if (typeof b.multipart === 'string') return /name="List-Unsubscribe"\s*\r?\n\r?\nOne-Click/i.test(b.multipart)
  return b['List-Unsubscribe'] === 'One-Click'
}
