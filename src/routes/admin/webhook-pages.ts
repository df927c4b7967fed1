// The owners' webhooks page (`/admin/webhooks`) and its forms: add an endpoint, turn one on or off, retry a dead
// delivery. Each form posts back here and is answered with 303 to the page (or the secret, once, after adding).
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { EVENT_TYPES } from '../../domain/events.js'
import { sendHtml } from '../../http.js'
import { page, staffErrors, staffSecurity } from '../../openapi.js'
import { staffPageContext } from '../../pages/context.js'
import { secretPage, webhooksPage } from '../../pages/webhooks.js'
import { createEndpoint, deliveryLog, listEndpoints, retryDeliveries, updateEndpoint } from '../../webhooks/endpoints.js'
import { checkTargetUrl } from '../../webhooks/target.js'

const owner = { staffRole: 'owner' as const }
const tags = ['staff', 'webhooks']
const seeOther = { 303: z.null().describe('Back to the webhooks page') }
const form = z.object({
  url: z.string().max(2000),
  // One checkbox ticked is a string, several an array.
  eventTypes: z.union([z.enum(EVENT_TYPES), z.array(z.enum(EVENT_TYPES))]).optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? [...new Set(v)] : [v])),
  list: z.string().max(63).optional()
})

export default async function webhookPageRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()

  const endpointsWithLog = async () => await Promise.all((await listEndpoints(app.database)).map(async (endpoint) => ({
    endpoint, deliveries: await deliveryLog(app.database, endpoint.id, { limit: 20 })
  })))

  app.get('/webhooks', {
    config: owner,
    schema: { tags, summary: 'The webhooks page', security: staffSecurity, response: { 200: page('Endpoints, their deliveries, the add form'), ...staffErrors } }
  }, async (request, reply) => {
    return sendHtml(reply.header('cache-control', 'no-store'), 200, webhooksPage(staffPageContext(request), await endpointsWithLog()))
  })

  app.post('/webhooks', {
    config: owner,
    schema: { tags, summary: 'Add an endpoint from the page', security: staffSecurity, body: form, response: { 200: page('The new endpoint\'s secret, shown once'), 400: page('The form again, with what is wrong'), ...staffErrors } }
  }, async (request, reply) => {
    const { url, eventTypes, list } = request.body
    const problem = checkTargetUrl(url, app.config.webhookAllowPrivateTargets)
    const slug = list?.trim() || null
    const { m } = staffPageContext(request)
    const error = problem
      ? m.t(problem, { field: url })
      : eventTypes.length === 0
        ? m.t('console.webhooks.pickEvent')
        : slug && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(slug) ? m.t('console.webhooks.badList') : undefined
    if (error) {
      return sendHtml(reply, 400, webhooksPage(staffPageContext(request), await endpointsWithLog(), error))
    }
    const { endpoint, secret } = await createEndpoint(app.database, { url, eventTypes, list: slug }, app.now())
    request.log.info({ endpointId: endpoint.id, actor: request.staff?.actor }, 'webhook endpoint added')
    return sendHtml(reply.header('cache-control', 'no-store'), 200, secretPage(staffPageContext(request), endpoint, secret))
  })

  app.post('/webhooks/:id/:state', {
    config: owner,
    schema: { tags, summary: 'Turn an endpoint on or off from the page', security: staffSecurity, params: z.object({ id: z.string().max(64), state: z.enum(['on', 'off']) }), response: { ...seeOther, ...staffErrors } }
  }, async (request, reply) => {
    await updateEndpoint(app.database, request.params.id, { enabled: request.params.state === 'on' }, app.now())
    app.webhooks.kick()
    return reply.code(303).header('location', '/admin/webhooks').send(null)
  })

  app.post('/webhooks/:id/deliveries/:delivery/retry', {
    config: owner,
    schema: { tags, summary: 'Retry a dead delivery from the page', security: staffSecurity, params: z.object({ id: z.string().max(64), delivery: z.coerce.number().int().positive() }), response: { ...seeOther, ...staffErrors } }
  }, async (request, reply) => {
    await retryDeliveries(app.database, request.params.id, app.now(), request.params.delivery)
    app.webhooks.kick()
    return reply.code(303).header('location', '/admin/webhooks').send(null)
  })
}
