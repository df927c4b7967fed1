// Operations pages for staff: the mail queue with retry buttons (the JSON of /admin/outbox stays as it is) and the
// audit trail. Forms post here and come back with 303, so both work without JavaScript.
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { listAudit, recordAudit } from '../../domain/audit.js'
import { ClientError, sendHtml } from '../../http.js'
import { errors, page, staffErrors, staffSecurity } from '../../openapi.js'
import { outboxOverview, retryDead } from '../../outbox/overview.js'
import { waitingMail } from '../../outbox/waiting.js'
import { consoleContext } from '../../pages/console/frame.js'
import { AUDIT_ACTIONS, auditPage, mailPage } from '../../pages/console/operations.js'
import { csrfFor } from './subscribers.js'

const formBody = z.object({ _csrf: z.string().optional() }).optional()

export default async function operationsRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()

  app.get('/mail', {
    schema: { tags: ['staff', 'operations'], summary: 'The mail page: waiting and dead mail, retry buttons', security: staffSecurity, querystring: z.object({ requeued: z.coerce.number().int().min(0).optional() }), response: { 200: page('The mail queue'), 400: errors[400], ...staffErrors } }
  }, async (request, reply) => {
    const [overview, waiting] = await Promise.all([outboxOverview(app.database, app.now()), waitingMail(app.database)])
    return sendHtml(reply.header('cache-control', 'no-store'), 200, mailPage(consoleContext(request, csrfFor(request, reply)), overview, waiting, request.query.requeued))
  })

  app.post('/mail/retry-all', {
    schema: { tags: ['staff', 'operations'], summary: 'Retry every dead mail (form)', security: staffSecurity, body: formBody, response: { 303: z.null(), ...staffErrors } }
  }, async (request, reply) => {
    const n = await retryDead(app.database, app.now())
    await recordAudit(app.database, { actor: request.staff!.actor, action: 'retry-mail', target: 'all', ip: request.ip, details: { requeued: n } }, app.now())
    app.outbox.kick()
    return reply.code(303).redirect(`/admin/mail?requeued=${n}`)
  })

  app.post('/mail/:id/retry', {
    schema: { tags: ['staff', 'operations'], summary: 'Retry one dead mail (form)', security: staffSecurity, params: z.object({ id: z.coerce.number({ error: 'id must be a number.' }).int().positive('id must be a positive number.').max(2 ** 53 - 1) }), body: formBody, response: { 303: z.null(), 400: errors[400], 404: errors[404], ...staffErrors } }
  }, async (request, reply) => {
    const n = await retryDead(app.database, app.now(), request.params.id)
    if (n === 0) throw new ClientError(404, 'not_found', { key: 'console.api.noDeadMail' })
    await recordAudit(app.database, { actor: request.staff!.actor, action: 'retry-mail', target: String(request.params.id), ip: request.ip }, app.now())
    app.outbox.kick()
    return reply.code(303).redirect(`/admin/mail?requeued=${n}`)
  })

  app.get('/audit', {
    schema: {
      tags: ['staff', 'operations'],
      summary: 'The audit trail: who exported, erased, changed what, when',
      security: staffSecurity,
      querystring: z.object({
        actor: z.string().trim().max(200).optional().transform((v) => v || undefined),
        action: z.union([z.literal(''), z.enum(AUDIT_ACTIONS, { error: 'console.api.auditAction' })]).optional().transform((v) => v || undefined)
      }),
      response: { 200: page('The audit trail'), 400: errors[400], ...staffErrors }
    }
  }, async (request, reply) => {
    const rows = await listAudit(app.database, { ...request.query, limit: 200 })
    return sendHtml(reply.header('cache-control', 'no-store'), 200, auditPage(consoleContext(request, csrfFor(request, reply)), request.query, rows))
  })
}
