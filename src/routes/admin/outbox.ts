// The outbox for staff: counts, the dead letters (permanent failures), and putting them back in the queue.
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { errorBody, errors, staffErrors, staffSecurity } from '../../openapi.js'
import { outboxOverview, retryDead } from '../../outbox/overview.js'
import { keyed } from '../../messages/index.js'
import { requestMessages } from '../../pages/context.js'

const retryParams = z.object({ id: z.coerce.number({ error: keyed('console.api.fieldNumber', { field: 'id' }) }).int().positive(keyed('console.api.fieldPositive', { field: 'id' })) })
const requeued = z.object({ requeued: z.number() }).describe('How many dead messages were put back in the queue')
const overview = z.object({
  counts: z.record(z.string(), z.number()).describe('Messages by status: pending, sending (claimed under a lease), sent, dead, cancelled'),
  oldestWaitingSeconds: z.number().describe('Age of the oldest message not yet sent; 0 when none waits'),
  dead: z.array(z.object({
    id: z.number(),
    kind: z.string(),
    to: z.string().describe('The address, masked: j***@example.org'),
    attempts: z.number(),
    lastError: z.string().nullable(),
    createdAt: z.string()
  })).describe('The most recent dead messages, newest first')
}).describe('Counts by status, the age of the oldest waiting message, and the dead messages')

export default async function outboxRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()

  app.get('/outbox', {
    schema: {
      tags: ['staff', 'operations'],
      summary: 'The outbox: counts by status, the oldest waiting message, the dead messages',
      description: 'Dead messages show a masked address, their attempts and the last error.',
      security: staffSecurity,
      response: { 200: overview, ...staffErrors }
    }
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    return await outboxOverview(app.database, app.now())
  })

  app.post('/outbox/retry-all', {
    schema: {
      tags: ['staff', 'operations'],
      summary: 'Put every dead message back in the queue, with a fresh attempt budget',
      security: staffSecurity,
      response: { 200: requeued, ...staffErrors }
    }
  }, async (request) => {
    const n = await retryDead(app.database, app.now())
    request.log.info({ requeued: n }, 'dead outbox messages requeued by staff')
    app.outbox.kick()
    return { requeued: n }
  })

  app.post('/outbox/:id/retry', {
    schema: {
      tags: ['staff', 'operations'],
      summary: 'Put one dead message back in the queue',
      security: staffSecurity,
      params: retryParams,
      response: { 200: requeued, 400: errors[400], 404: errorBody('There is no dead outbox message with this id'), ...staffErrors }
    }
  }, async (request, reply) => {
    const n = await retryDead(app.database, app.now(), request.params.id)
    if (n === 0) {
      return reply.code(404).send({ error: 'not_found', message: requestMessages(request).t('console.api.noDeadOutbox') })
    }
    request.log.info({ outboxId: request.params.id }, 'dead outbox message requeued by staff')
    app.outbox.kick()
    return { requeued: n }
  })
}
