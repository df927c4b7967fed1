// Webhook endpoints for owners (`/admin/api/webhooks`): create, read, change, delete, rotate the secret, the
// delivery log and its retry button; and the changes feed (`/admin/api/changes`) for viewers and tools that pull.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { EVENT_TYPES } from '../../domain/events.js'
import { errorBody, errors, staffErrors, staffSecurity } from '../../openapi.js'
import { readChanges } from '../../webhooks/dispatch.js'
import {
  createEndpoint, deleteEndpoint, deliveryLog, getEndpoint, listEndpoints, retryDeliveries, rotateSecret, updateEndpoint
} from '../../webhooks/endpoints.js'
import { checkTargetUrl } from '../../webhooks/target.js'
import { requestMessages } from '../../pages/context.js'

const endpointBody = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string().nullable(),
  eventTypes: z.array(z.enum(EVENT_TYPES)),
  list: z.string().nullable().describe('Only events of this list (by slug); erasures go to every endpoint'),
  enabled: z.boolean(),
  disabledReason: z.string().nullable().describe('Why the service turned it off (a 410 Gone from the target)'),
  previousSecretExpiresAt: z.string().nullable().describe('Until when the previous secret still signs, after a rotation'),
  createdAt: z.string(),
  updatedAt: z.string()
})
const withSecret = z.object({
  endpoint: endpointBody,
  secret: z.string().describe('whsec_<base64>: shown this once; keep it where the receiver can read it')
})
const deliveryBody = z.object({
  id: z.number(),
  eventId: z.string().describe('The webhook-id header of every try'),
  type: z.string(),
  status: z.enum(['waiting', 'pending', 'sending', 'delivered', 'dead']).describe('waiting: behind an earlier event of the same subscriber'),
  attempts: z.number(),
  lastStatusCode: z.number().nullable(),
  lastError: z.string().nullable(),
  lastResponse: z.string().nullable().describe('The first 300 bytes of the last failed answer'),
  nextAttemptAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string()
})

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'console.webhooks.listSlug')
const fields = {
  url: z.string().max(2000),
  description: z.string().max(200).nullable(),
  eventTypes: z.array(z.enum(EVENT_TYPES)).min(1, 'console.webhooks.eventTypesMin').transform((t) => [...new Set(t)]),
  list: slug.nullable(),
  enabled: z.boolean()
}
const createInput = z.object({ ...fields, description: fields.description.optional(), list: fields.list.optional(), enabled: fields.enabled.optional() })
const patchInput = z.object(fields).partial()
const idParams = z.object({ id: z.string().max(64) })
const notFound = errorBody('No webhook endpoint with this id')
const owner = { staffRole: 'owner' as const }
const tags = ['staff', 'webhooks']

export default async function webhookRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  const { config } = app
  const badUrl = (request: FastifyRequest, url: string) => {
    const problem = checkTargetUrl(url, config.webhookAllowPrivateTargets)
    return problem && { error: 'invalid_field', message: requestMessages(request).t(problem, { field: 'url' }), field: 'url' }
  }
  const missing = (request: FastifyRequest) => ({ error: 'not_found', message: requestMessages(request).t('console.webhooks.noEndpoint') })

  app.addHook('onSend', async (request, reply) => { reply.header('cache-control', 'no-store') })

  app.get('/api/webhooks', {
    config: owner,
    schema: { tags, summary: 'Webhook endpoints', security: staffSecurity, response: { 200: z.object({ endpoints: z.array(endpointBody) }), ...staffErrors } }
  }, async () => ({ endpoints: await listEndpoints(app.database) }))

  app.post('/api/webhooks', {
    config: owner,
    schema: {
      tags,
      summary: 'Add a webhook endpoint; its signing secret is in this answer only',
      security: staffSecurity,
      body: createInput,
      response: { 201: withSecret, 400: errors[400], ...staffErrors }
    }
  }, async (request, reply) => {
    const problem = badUrl(request, request.body.url)
    if (problem) return reply.code(400).send(problem)
    const created = await createEndpoint(app.database, request.body, app.now())
    request.log.info({ endpointId: created.endpoint.id, actor: request.staff?.actor }, 'webhook endpoint added')
    return reply.code(201).send(created)
  })

  app.get('/api/webhooks/:id', {
    config: owner,
    schema: { tags, summary: 'One webhook endpoint', security: staffSecurity, params: idParams, response: { 200: endpointBody, 404: notFound, ...staffErrors } }
  }, async (request, reply) => (await getEndpoint(app.database, request.params.id)) ?? reply.code(404).send(missing(request)))

  app.patch('/api/webhooks/:id', {
    config: owner,
    schema: {
      tags,
      summary: 'Change a webhook endpoint (turning it on again clears why it was turned off)',
      security: staffSecurity,
      params: idParams,
      body: patchInput,
      response: { 200: endpointBody, 400: errors[400], 404: notFound, ...staffErrors }
    }
  }, async (request, reply) => {
    const problem = request.body.url !== undefined && badUrl(request, request.body.url)
    if (problem) return reply.code(400).send(problem)
    const endpoint = await updateEndpoint(app.database, request.params.id, request.body, app.now())
    if (!endpoint) return reply.code(404).send(missing(request))
    app.webhooks.kick()
    return endpoint
  })

  app.delete('/api/webhooks/:id', {
    config: owner,
    schema: { tags, summary: 'Delete a webhook endpoint and its delivery log', security: staffSecurity, params: idParams, response: { 204: z.null(), 404: notFound, ...staffErrors } }
  }, async (request, reply) => {
    if (!await deleteEndpoint(app.database, request.params.id)) return reply.code(404).send(missing(request))
    request.log.info({ endpointId: request.params.id, actor: request.staff?.actor }, 'webhook endpoint deleted')
    return reply.code(204).send(null)
  })

  app.post('/api/webhooks/:id/rotate-secret', {
    config: owner,
    schema: {
      tags,
      summary: 'A new signing secret; the old one keeps signing too for overlapHours (default 24)',
      security: staffSecurity,
      params: idParams,
      body: z.object({ overlapHours: z.number().min(0).max(24 * 30).default(24) }).default({ overlapHours: 24 }),
      response: { 200: withSecret, 400: errors[400], 404: notFound, ...staffErrors }
    }
  }, async (request, reply) => {
    const rotated = await rotateSecret(app.database, request.params.id, request.body.overlapHours, app.now())
    if (!rotated) return reply.code(404).send(missing(request))
    request.log.info({ endpointId: request.params.id, actor: request.staff?.actor }, 'webhook secret rotated')
    return rotated
  })

  app.get('/api/webhooks/:id/deliveries', {
    config: owner,
    schema: {
      tags,
      summary: 'The delivery log of an endpoint, newest first',
      security: staffSecurity,
      params: idParams,
      querystring: z.object({
        status: deliveryBody.shape.status.optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
        before: z.coerce.number().int().positive().optional().describe('Only deliveries with a smaller id (the next page)')
      }),
      response: { 200: z.object({ deliveries: z.array(deliveryBody) }), 400: errors[400], 404: notFound, ...staffErrors }
    }
  }, async (request, reply) => {
    if (!await getEndpoint(app.database, request.params.id)) return reply.code(404).send(missing(request))
    return { deliveries: await deliveryLog(app.database, request.params.id, request.query) }
  })

  app.post('/api/webhooks/:id/deliveries/:delivery/retry', {
    config: owner,
    schema: {
      tags,
      summary: 'Put a dead delivery back in the queue (all of them: `all` as the delivery)',
      security: staffSecurity,
      params: idParams.extend({ delivery: z.union([z.literal('all'), z.coerce.number().int().positive()]) }),
      response: { 200: z.object({ requeued: z.number() }), 400: errors[400], 404: errorBody('No dead delivery with this id'), ...staffErrors }
    }
  }, async (request, reply) => {
    const { id, delivery } = request.params
    const n = await retryDeliveries(app.database, id, app.now(), delivery === 'all' ? undefined : delivery)
    if (n === 0 && delivery !== 'all') return reply.code(404).send({ error: 'not_found', message: requestMessages(request).t('console.webhooks.noDeadDelivery') })
    app.webhooks.kick()
    return { requeued: n }
  })

  app.get('/api/changes', {
    schema: {
      tags,
      summary: 'The changes feed: the same events as the webhooks, in commit order',
      description: 'Pass the `cursor` of the last change read as `after`. A cursor never skips an event that committed late.',
      security: staffSecurity,
      querystring: z.object({
        after: z.string().regex(/^\d{1,18}$/, 'console.webhooks.afterCursor').default('0').transform(Number),
        limit: z.coerce.number().int().min(1).max(1000).default(100)
      }),
      response: {
        200: z.object({
          changes: z.array(z.object({ id: z.string(), cursor: z.string(), type: z.enum(EVENT_TYPES), timestamp: z.string(), data: z.record(z.string(), z.unknown()) })),
          cursor: z.string().describe('Where to read on from: the last change\'s cursor, or `after` when there was none')
        }),
        400: errors[400],
        ...staffErrors
      }
    }
  }, async (request) => await readChanges(app.database, app.now(), request.query.after, request.query.limit))
}
