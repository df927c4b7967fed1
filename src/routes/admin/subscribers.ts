// Staff subscriber routes: the search (a page at /admin/subscribers, JSON at /admin/api/subscribers), one subscriber
// (/admin/subscriber/:publicId), and what editors may do to one: resend the confirmation, unsubscribe, erase.
// Roles come from the staff-auth hook: GET needs a viewer, every POST an editor.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { subscriberStatus } from '../../db/schema.js'
import { erase } from '../../domain/privacy.js'
import { BadCursorError, searchSubscribers } from '../../domain/search.js'
import { resendConfirmation, staffUnsubscribe, subscriberDetail } from '../../domain/subscriber-detail.js'
import { ClientError, sendHtml } from '../../http.js'
import { keyed } from '../../messages/index.js'
import { UNNAMED_LIST } from '../../mail/messages.js'
import { errorBody, errors, page, staffErrors, staffSecurity } from '../../openapi.js'
import { consoleContext } from '../../pages/console/frame.js'
import { subscribersPage } from '../../pages/console/subscribers.js'
import { erasePage, subscriberPage } from '../../pages/console/subscriber.js'
import { staffWho } from './export.js'

// A GET form sends every field, empty ones as "": those mean "any".
const optionalText = (max: number, what: string) => z.string().trim().max(max, keyed('console.api.fieldAtMostChars', { field: what, max })).optional().transform((v) => v || undefined)
const day = (what: string) => z.string().trim().optional().transform((v) => v || undefined)
  .refine((v) => v === undefined || (/^\d{4}-\d\d-\d\d$/.test(v) && !Number.isNaN(Date.parse(v + 'T00:00:00Z')) && new Date(v + 'T00:00:00Z').toISOString().startsWith(v)),
    keyed('console.api.fieldDate', { field: what }))

const searchFields = z.object({
  q: optionalText(200, 'q'),
  status: z.union([z.literal(''), z.enum(subscriberStatus.enumValues, { error: keyed('console.api.fieldOneOf', { field: 'status', values: subscriberStatus.enumValues.join(', ') }) })]).optional().transform((v) => v || undefined),
  list: optionalText(100, 'list'),
  source: optionalText(100, 'source'),
  since: day('since'),
  until: day('until'),
  limit: z.coerce.number({ error: keyed('console.api.fieldNumber', { field: 'limit' }) }).int(keyed('console.api.fieldWhole', { field: 'limit' })).min(1, keyed('console.api.fieldAtLeast', { field: 'limit', min: 1 })).max(100, keyed('console.api.fieldAtMost', { field: 'limit', max: 100 })).default(50),
  cursor: optionalText(200, 'cursor')
})
const datesInOrder = (f: { since?: string, until?: string }) => !f.since || !f.until || f.since <= f.until
const datesMessage = { message: 'console.api.sinceAfterUntil', path: ['since'] }
export const searchQuery = searchFields.refine(datesInOrder, datesMessage)
const pageQuery = searchFields.extend({ erased: z.string().max(1).optional() }).refine(datesInOrder, datesMessage)

const searchRow = z.object({
  publicId: z.string(), email: z.string(), name: z.string().nullable(), status: z.string(), source: z.string().nullable(), signedUpAt: z.string(), confirmedAt: z.string().nullable()
})
const searchBody = z.object({
  subscribers: z.array(searchRow),
  count: z.number().describe('Matches of the whole search, up to 1,000'),
  countCapped: z.boolean().describe('True when more than `count` subscribers match'),
  nextCursor: z.string().optional().describe('Pass as cursor for the next page; absent on the last page')
}).describe('One page of matches, newest sign-up first')

const publicIdParams = z.object({ publicId: z.uuid({ error: 'console.api.notSubscriberId' }) })

/** A CSRF token for the page's forms when signed in with a session; header credentials need none. */
export const csrfFor = (request: FastifyRequest, reply: FastifyReply): string =>
  request.staff?.sessionHash ? reply.generateCsrf({ userInfo: request.staff.sessionHash }) : ''

async function search (app: FastifyInstance, query: z.output<typeof searchQuery>) {
  try {
    return await searchSubscribers(app.database, app.lists, query)
  } catch (err) {
    if (err instanceof BadCursorError) throw new ClientError(400, 'invalid_field', { key: 'console.api.badCursor' })
    throw err
  }
}

export default async function subscriberRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()

  app.get('/api/subscribers', {
    schema: {
      tags: ['staff', 'subscribers'],
      summary: 'Search subscribers: address or name, status, list, source, sign-up dates; keyset pages',
      security: staffSecurity,
      querystring: searchQuery,
      response: { 200: searchBody, 400: errors[400], ...staffErrors }
    }
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    return await search(app, request.query)
  })

  app.get('/subscribers', {
    schema: { tags: ['staff', 'subscribers'], summary: 'The subscriber search page', security: staffSecurity, querystring: pageQuery, response: { 200: page('Search form, count and matches'), 400: errors[400], ...staffErrors } }
  }, async (request, reply) => {
    const result = await search(app, request.query)
    const c = consoleContext(request, csrfFor(request, reply))
    const notice = request.query.erased ? c.page.m.t('console.subscribers.erased') : undefined
    return sendHtml(reply.header('cache-control', 'no-store'), 200, subscribersPage(c, request.query, result, notice))
  })

  app.get('/subscriber/:publicId', {
    schema: {
      tags: ['staff', 'subscribers'],
      summary: 'One subscriber: lists, consent ledger, mail, and the actions the role allows',
      security: staffSecurity,
      params: publicIdParams,
      querystring: z.object({ done: z.string().max(40).optional() }),
      response: { 200: page('The subscriber'), 400: errors[400], 404: errorBody('No such subscriber'), ...staffErrors }
    }
  }, async (request, reply) => {
    const detail = await subscriberDetail(app.database, request.params.publicId, app.config.listName ?? UNNAMED_LIST)
    if (!detail) throw new ClientError(404, 'not_found', { key: 'console.api.noSubscriberErased' })
    return sendHtml(reply.header('cache-control', 'no-store'), 200, subscriberPage(consoleContext(request, csrfFor(request, reply)), detail, request.query.done))
  })

  const formBody = z.object({ _csrf: z.string().optional(), list: z.string().max(100).optional() }).optional()

  app.post('/subscriber/:publicId/resend', {
    schema: { tags: ['staff', 'subscribers'], summary: 'Resend the confirmation mail to a pending subscriber', security: staffSecurity, params: publicIdParams, body: formBody, response: { 303: z.null().describe('Back to the subscriber'), 400: errors[400], 404: errorBody('No such subscriber'), ...staffErrors } }
  }, async (request, reply) => {
    const { publicId } = request.params
    const resent = await resendConfirmation(app.lifecycle, publicId, { actor: request.staff!.actor, ip: request.ip })
    if (resent) app.outbox.kick()
    else if (!(await subscriberDetail(app.database, publicId, app.config.listName ?? UNNAMED_LIST))) throw new ClientError(404, 'not_found', { key: 'console.api.noSubscriber' })
    return reply.code(303).redirect(`/admin/subscriber/${publicId}?done=${resent ? 'resent' : 'not-pending'}`)
  })

  app.post('/subscriber/:publicId/unsubscribe', {
    schema: { tags: ['staff', 'subscribers'], summary: 'Unsubscribe from one list (`list`) or from all', security: staffSecurity, params: publicIdParams, body: formBody, response: { 303: z.null().describe('Back to the subscriber'), 400: errors[400], 404: errorBody('No such subscriber or list'), ...staffErrors } }
  }, async (request, reply) => {
    const { publicId } = request.params
    const done = await staffUnsubscribe(app.lifecycle, publicId, request.body?.list || undefined, { actor: request.staff!.actor, ip: request.ip })
    if (!done) throw new ClientError(404, 'not_found', { key: 'console.api.notOnList' })
    return reply.code(303).redirect(`/admin/subscriber/${publicId}?done=unsubscribed`)
  })

  app.get('/subscriber/:publicId/erase', {
    schema: { tags: ['staff', 'subscribers'], summary: 'The erasure confirmation page: what will be deleted', security: staffSecurity, params: publicIdParams, response: { 200: page('The confirmation step'), 400: errors[400], 404: errorBody('No such subscriber'), ...staffErrors } },
    // Only an editor may erase, so only an editor is shown the step.
    config: { staffRole: 'editor' }
  }, async (request, reply) => {
    const detail = await subscriberDetail(app.database, request.params.publicId, app.config.listName ?? UNNAMED_LIST)
    if (!detail) throw new ClientError(404, 'not_found', { key: 'console.api.noSubscriberErasedAlready' })
    return sendHtml(reply.header('cache-control', 'no-store'), 200, erasePage(consoleContext(request, csrfFor(request, reply)), detail))
  })

  app.post('/subscriber/:publicId/erase', {
    schema: { tags: ['staff', 'subscribers', 'privacy'], summary: 'Erase one subscriber (after the confirmation page)', security: staffSecurity, params: publicIdParams, body: formBody, response: { 303: z.null().describe('To the search, with a notice'), 400: errors[400], 404: errorBody('No such subscriber'), ...staffErrors } }
  }, async (request, reply) => {
    const erased = await erase(app.privacy, { publicId: request.params.publicId }, staffWho(request))
    if (!erased) throw new ClientError(404, 'not_found', { key: 'console.api.noSubscriberErasedAlready' })
    request.log.info('erasure by staff from the console')
    return reply.code(303).redirect('/admin/subscribers?erased=1')
  })
}
