// The subscriber's links: confirm and unsubscribe. GET and HEAD only show a page with a button; only POST
// changes anything, because mail security scanners fetch every link (RFC 8058 §1; Outlook Safe Links even submits
// forms it finds, so nothing submits itself). POST /unsubscribe is also the RFC 8058 one-click target (§3.2).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { confirm, confirmationLinkState, setSubscriptions, subscriptionsOf, unsubscribe, verifyUnsubscribeToken, type LinkOwner } from '../domain/subscribers.js'
import { maskEmail } from '../domain/email.js'
import { erase } from '../domain/privacy.js'
import { TOKEN_PATTERN } from '../domain/tokens.js'
import { confirmedPage, confirmPage, erasedPage, erasePage, invalidLinkPage, managePage, unsubscribedPage, unsubscribePage, type ManagedList } from '../pages/subscriber.js'
import { forList, pageContext, requestMessages } from '../pages/context.js'
import { BODY_LIMIT, sendHtml, wantsHtml } from '../http.js'
import { errors, page, pageOrJson } from '../openapi.js'
import { clientKey, routeLimit } from '../plugins/rate-limits.js'

const tokenParams = z.object({ token: z.string() })
// A mail for one of several lists links to /unsubscribe/<token>?list=<slug>: that list only.
// `lang`: the page's language for the visit (src/pages/context.ts), kept through validation.
const unsubscribeQuery = z.object({ list: z.string().max(63).optional(), lang: z.string().max(20).optional() })
const manageBody = z.object({
  lists: z.union([z.string().max(63), z.array(z.string().max(63)).max(50)], { error: 'lists must be an array of list slugs.' })
    .optional().transform((v) => v === undefined ? [] : Array.isArray(v) ? v : [v]),
  lists_shown: z.string().max(10).optional(),
  all: z.string().max(10).optional(),
  erase: z.string().max(10).optional()
}).optional()
// The erase step's button (erase=1) also erases the subscriber: its JSON answer says so.
const unsubscribedBody = z.discriminatedUnion('status', [
  z.object({ status: z.literal('unsubscribed') }).describe('Unsubscribed'),
  z.object({ status: z.literal('erased') }).describe('Unsubscribed, and everything held about the subscriber erased (erase=1)')
])

export default async function tokenRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()

  // RFC 8058 §3.2: mailbox providers may post the one-click body as multipart/form-data. Only its presence
  // matters, so it is read as text (within the body limit), on these routes only.
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: BODY_LIMIT },
    (_req, body, done) => done(null, { multipart: body }))

  const { config } = app
  const confirmLimit = { rateLimit: routeLimit(config, config.rateLimitTokenMax) }
  // RFC 8058: mailbox providers post one-click unsubscribes for many of their users from a few addresses. A genuine
  // link is counted per subscriber, not per client, so those posts are never refused; a forged or damaged token is
  // counted per client. The check is the route's own (one lookup by public id), kept on the request for the handler.
  const unsubscribeLimit = {
    rateLimit: routeLimit(config, config.rateLimitTokenMax, async (request) => {
      const owner = await genuineUnsubscribe(request)
      return owner ? `subscriber:${owner.publicId}` : clientKey(request)
    })
  }
  const checked = new WeakMap<FastifyRequest, Promise<LinkOwner | undefined>>()
  function genuineUnsubscribe (request: FastifyRequest): Promise<LinkOwner | undefined> {
    let owner = checked.get(request)
    if (!owner) {
      owner = verifyUnsubscribeToken(app.database, (request.params as { token?: string }).token ?? '')
      checked.set(request, owner)
    }
    return owner
  }

  const answer = (request: FastifyRequest, reply: FastifyReply, status: number, json: object, page: string) =>
    wantsHtml(request) || request.headers.accept === undefined ? sendHtml(reply, status, page) : reply.code(status).send(json)

  const invalid = (request: FastifyRequest, reply: FastifyReply, expired = false) =>
    answer(request, reply, expired ? 410 : 404,
      { error: expired ? 'expired' : 'invalid_link', message: requestMessages(request).t(expired ? 'api.expiredLink' : 'api.invalidLink') },
      invalidLinkPage(pageContext(request), expired ? 'expired' : 'invalid', config.confirmTtlHours))

  app.get('/confirm/:token', {
    config: confirmLimit,
    schema: {
      tags: ['pages'],
      summary: 'The confirm page (a button)',
      description: 'Never changes state: mail scanners fetch links, and some submit forms they find.',
      params: tokenParams,
      response: {
        200: page('A page with a "Confirm subscription" button, or "already subscribed" for a used link'),
        404: page('Unknown link, with a form to request a new one'),
        410: page('Expired link, with a form to request a new one'),
        429: errors[429]
      }
    }
  }, async (request, reply) => {
    if (!TOKEN_PATTERN.test(request.params.token)) return invalid(request, reply)
    // The page says what is true now: a used link shows "already subscribed", not a button that would do nothing.
    const link = await confirmationLinkState(app.lifecycle, request.params.token)
    if (!link) return invalid(request, reply)
    if (link.state === 'expired') return invalid(request, reply, true)
    if (link.state === 'confirmed') return sendHtml(reply, 200, confirmedPage(pageContext(request), true, maskEmail(link.email)))
    return sendHtml(reply, 200, confirmPage(pageContext(request), `/confirm/${request.params.token}`, maskEmail(link.email)))
  })

  app.post('/confirm/:token', {
    config: confirmLimit,
    schema: {
      tags: ['public'],
      summary: 'Confirm a subscription',
      description: 'Repeats are harmless. HTML for browsers, JSON when asked with Accept: application/json.',
      params: tokenParams,
      response: {
        200: pageOrJson('Confirmed (or already confirmed)', z.object({ status: z.literal('confirmed'), alreadyConfirmed: z.boolean() })),
        404: errors[404],
        410: errors[410],
        429: errors[429],
        503: errors[503]
      }
    }
  }, async (request, reply) => {
    const { token } = request.params
    if (!TOKEN_PATTERN.test(token)) return invalid(request, reply)
    const result = await confirm(app.lifecycle, token, { ip: request.ip, userAgent: request.headers['user-agent']?.slice(0, 500) })
    if (result === 'invalid' || result === 'expired') return invalid(request, reply, result === 'expired')
    if (result === 'confirmed') app.outbox.kick()
    const already = result === 'already-confirmed'
    const link = await confirmationLinkState(app.lifecycle, token)
    return answer(request, reply, 200, { status: 'confirmed', alreadyConfirmed: already },
      confirmedPage(pageContext(request), already, link ? maskEmail(link.email) : ''))
  })

  app.get('/unsubscribe/:token', {
    config: unsubscribeLimit,
    schema: {
      tags: ['pages'],
      summary: 'The unsubscribe page (a button)',
      description: 'Never changes state (RFC 8058 §1: anti-spam software fetches links in mail).',
      params: tokenParams,
      querystring: unsubscribeQuery,
      response: { 200: page('A page with an "Unsubscribe" button, or "already left"'), 404: page('Invalid link'), 429: errors[429] }
    }
  }, async (request, reply) => {
    const owner = await genuineUnsubscribe(request)
    if (!owner) return invalid(request, reply)
    const { token } = request.params
    const list = request.query.list === undefined ? undefined : await app.lists.bySlug(request.query.list)
    if (request.query.list !== undefined && !list) return invalid(request, reply)
    const ctx = list ? forList(pageContext(request), list) : pageContext(request)
    const masked = maskEmail(owner.email)
    // The page says what is true now: someone who has left (that list, or every list) is told so, with no button.
    const left = list
      ? !(await subscriptionsOf(app.database, owner.publicId) ?? []).some((s) => s.listId === list.id && (s.status !== 'unsubscribed' || s.awaiting))
      : owner.status === 'unsubscribed'
    if (left) return sendHtml(reply, 200, unsubscribedPage(ctx, masked, true))
    const action = list ? `/unsubscribe/${token}?list=${encodeURIComponent(list.slug)}` : `/unsubscribe/${token}`
    return sendHtml(reply, 200, unsubscribePage(ctx, action, masked,
      { eraseUrl: `/unsubscribe/${token}/erase`, ...list ? { manageUrl: `/manage/${token}`, list: list.name } : {} }))
  })

  app.get('/unsubscribe/:token/erase', {
    config: unsubscribeLimit,
    schema: {
      tags: ['pages'],
      summary: 'The "delete my data" step (a warning button)',
      description: 'Says what will be deleted and that it cannot be undone; the button posts erase=1 to /unsubscribe/:token. Never changes state.',
      params: tokenParams,
      response: { 200: page('A page with a "Delete my data" button'), 404: page('Invalid link'), 429: errors[429] }
    }
  }, async (request, reply) => {
    const owner = await genuineUnsubscribe(request)
    if (!owner) return invalid(request, reply)
    return sendHtml(reply, 200, erasePage(pageContext(request), `/unsubscribe/${request.params.token}`, maskEmail(owner.email)))
  })

  app.post('/unsubscribe/:token', {
    config: unsubscribeLimit,
    schema: {
      tags: ['public'],
      summary: 'Unsubscribe (also the RFC 8058 one-click target)',
      description: 'Body `List-Unsubscribe=One-Click` (urlencoded or multipart) or empty. Always 200 and never a redirect for a valid link; repeats are harmless.',
      params: tokenParams,
      querystring: unsubscribeQuery,
      response: { 200: pageOrJson('Unsubscribed; with erase=1 also erased', unsubscribedBody), 404: errors[404], 413: errors[413], 429: errors[429], 503: errors[503] }
    }
  }, async (request, reply) => {
    const owner = await genuineUnsubscribe(request)
    const publicId = owner?.publicId
    // ?list=<slug>: leave that list only (RFC 8058 one-click from a mail of that list), unless all=1 asks for all.
    const list = request.query.list === undefined ? undefined : await app.lists.bySlug(request.query.list)
    if (request.query.list !== undefined && !list) return invalid(request, reply)
    const onlyList = list && !wantsAll(request.body) ? list : undefined
    // "Also delete my data": the erase step's button sends erase=1; a one-click POST never does.
    if (publicId && wantsErasure(request.body)) {
      if (!await erase(app.privacy, { publicId }, { actor: 'subscriber', method: 'self-service' })) return invalid(request, reply)
      return answer(request, reply, 200, { status: 'erased' }, erasedPage(pageContext(request)))
    }
    if (!publicId || !await unsubscribe(app.lifecycle, publicId, isOneClick(request.body) ? 'one-click' : 'link', evidenceOf(request), onlyList?.id)) {
      return invalid(request, reply)
    }
    // 200 and never a redirect, so mailbox providers see success (RFC 8058 §3.1).
    const ctx = onlyList ? forList(pageContext(request), onlyList) : pageContext(request)
    return answer(request, reply, 200, { status: 'unsubscribed' }, unsubscribedPage(ctx, maskEmail(owner!.email)))
  })
  // The preference page links the erase step of the same token.
  const eraseUrl = (request: FastifyRequest<{ Params: { token: string } }>) => `/unsubscribe/${request.params.token}/erase`

  /** What the preference page shows: every list offered, and any other the subscriber is on or waiting for. */
  async function managed (publicId: string): Promise<ManagedList[] | undefined> {
    const subscriptions = await subscriptionsOf(app.database, publicId)
    if (!subscriptions) return undefined
    const lists = (await app.lists.active()).filter((l) => l.public || subscriptions.some((s) => s.listId === l.id && (s.status !== 'unsubscribed' || s.awaiting)))
    return lists.map((l) => {
      const s = subscriptions.find((x) => x.listId === l.id)
      return { slug: l.slug, name: l.name, description: l.description, checked: s?.status === 'confirmed' || !!s?.awaiting, waiting: !!s?.awaiting && s.status !== 'confirmed' }
    })
  }

  const manageJson = (lists: ManagedList[]) => ({
    lists: lists.map((l) => ({ slug: l.slug, name: l.name, subscribed: l.checked && !l.waiting, waitingForConfirmation: l.waiting }))
  })
  const manageSchema = z.object({
    lists: z.array(z.object({ slug: z.string(), name: z.string(), subscribed: z.boolean(), waitingForConfirmation: z.boolean() }))
  })

  app.get('/manage/:token', {
    config: unsubscribeLimit,
    schema: {
      tags: ['pages'],
      summary: 'The preference page',
      description: 'The lists the subscriber may choose, ticked where they are on them. Never changes state: mail scanners fetch links.',
      params: tokenParams,
      response: { 200: pageOrJson('The preference page', manageSchema), 404: page('Invalid link'), 429: errors[429] }
    }
  }, async (request, reply) => {
    const publicId = (await genuineUnsubscribe(request))?.publicId
    const lists = publicId && await managed(publicId)
    if (!lists) return invalid(request, reply)
    return answer(request, reply, 200, manageJson(lists), managePage(pageContext(request), `/manage/${request.params.token}`, lists, { eraseUrl: eraseUrl(request) }))
  })

  app.post('/manage/:token', {
    config: unsubscribeLimit,
    schema: {
      tags: ['public'],
      summary: 'Change which lists the subscriber is on',
      description: 'Form or JSON. `lists`: the slugs to be on afterwards (ticked lists are joined at once, unticked ones left); `all=1` leaves every list; `erase=1` leaves and deletes everything held about the subscriber.',
      params: tokenParams,
      body: manageBody,
      response: {
        200: pageOrJson('The preference page with the choices saved; `{"status":"erased"}` after erase=1', z.union([manageSchema, unsubscribedBody])),
        400: errors[400],
        404: errors[404],
        413: errors[413],
        429: errors[429],
        503: errors[503]
      }
    }
  }, async (request, reply) => {
    const publicId = (await genuineUnsubscribe(request))?.publicId
    if (!publicId) return invalid(request, reply)
    const body = request.body ?? { lists: [] as string[] }
    if (body.erase === '1') {
      if (!await erase(app.privacy, { publicId }, { actor: 'subscriber', method: 'self-service' })) return invalid(request, reply)
      return answer(request, reply, 200, { status: 'erased' }, erasedPage(pageContext(request)))
    }
    const action = `/manage/${request.params.token}`
    let wanted: number[] = []
    if (body.all !== '1') {
      const choosable = (await managed(publicId)) ?? []
      const refused = body.lists.filter((slug) => !choosable.some((l) => l.slug === slug))
      if (refused.length) {
        const message = requestMessages(request).t('signup.listsRefused', { slugs: refused.join(', ') })
        if (!wantsHtml(request)) return reply.code(400).send({ error: 'invalid_lists', message })
        return sendHtml(reply, 400, managePage(pageContext(request), action, choosable, { eraseUrl: eraseUrl(request), error: message }))
      }
      const active = await app.lists.active()
      wanted = active.filter((l) => body.lists.includes(l.slug)).map((l) => l.id)
    }
    await setSubscriptions(app.lifecycle, publicId, wanted, evidenceOf(request))
    const lists = (await managed(publicId)) ?? []
    return answer(request, reply, 200, manageJson(lists), managePage(pageContext(request), action, lists, { eraseUrl: eraseUrl(request), saved: true }))
  })
}

const evidenceOf = (request: FastifyRequest) => ({ ip: request.ip, userAgent: request.headers['user-agent']?.slice(0, 500) })

function wantsAll (body: unknown): boolean {
  return !!body && typeof body === 'object' && (body as Record<string, unknown>).all === '1'
}

function wantsErasure (body: unknown): boolean {
  return !!body && typeof body === 'object' && (body as Record<string, unknown>).erase === '1'
}

function isOneClick (body: unknown): boolean {
  if (!body || typeof body !== 'object') return false
  const b = body as Record<string, unknown>
  if (typeof b.multipart === 'string') return /name="List-Unsubscribe"\s*\r?\n\r?\nOne-Click/i.test(b.multipart)
  return b['List-Unsubscribe'] === 'One-Click'
}
