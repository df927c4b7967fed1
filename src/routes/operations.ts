// Operating endpoints: the outbox for staff (dead letters and retrying them, STANDARDS F32) and GET /metrics in
// Prometheus text format. /metrics takes METRICS_TOKEN (a scrape credential that cannot export the list) or the
// staff token; with neither configured it is closed (503), like every staff endpoint.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import { isStaff, requireStaff } from './staff-auth.js'
import { OUTBOX_STATUSES, outboxCounts, outboxOverview, retryDead, SUBSCRIBER_STATUSES, subscriberCounts } from '../outbox/overview.js'

const digest = (s: string) => createHash('sha256').update(s).digest()
const bearer = (request: FastifyRequest) => /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim()

const retryParams = z.object({ id: z.coerce.number({ error: 'id must be a number.' }).int().positive('id must be a positive number.') })

export default async function operationsRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()

  const closed = (reply: FastifyReply, what: string) => reply.code(503)
    .send({ error: 'staff_disabled', message: `${what} is off: set ADMIN_TOKEN (at least 32 characters) to turn it on.` })
  const unauthorized = (reply: FastifyReply, message: string) => reply.code(401)
    .header('www-authenticate', 'Basic realm="Joinlist staff", charset="UTF-8"')
    .send({ error: 'unauthorized', message })

  const requireScraper = async (request: FastifyRequest, reply: FastifyReply) => {
    const { metricsToken, adminToken } = app.config
    if (!metricsToken && !adminToken) return closed(reply, 'Metrics access')
    const given = bearer(request)
    if (metricsToken && given !== undefined && timingSafeEqual(digest(given), digest(metricsToken))) return
    if (adminToken && isStaff(request, adminToken)) return
    return unauthorized(reply, 'Send Authorization: Bearer <METRICS_TOKEN> (or the staff token).')
  }

  app.get('/admin/outbox', { onRequest: requireStaff }, async (request, reply) => {
    const overview = await outboxOverview(app.database, app.now())
    return reply.header('cache-control', 'no-store').send(overview)
  })

  app.post('/admin/outbox/retry-all', { onRequest: requireStaff }, async (request) => {
    const requeued = await retryDead(app.database, app.now())
    request.log.info({ requeued }, 'dead outbox messages requeued by staff')
    app.outbox.kick()
    return { requeued }
  })

  app.post('/admin/outbox/:id/retry', { onRequest: requireStaff, schema: { params: retryParams } }, async (request, reply) => {
    const requeued = await retryDead(app.database, app.now(), request.params.id)
    if (requeued === 0) {
      return reply.code(404).send({ error: 'not_found', message: 'There is no dead outbox message with this id.' })
    }
    request.log.info({ outboxId: request.params.id }, 'dead outbox message requeued by staff')
    app.outbox.kick()
    return { requeued }
  })

  // A registry per app (not prom-client's global one), so several apps in one process (tests) do not clash.
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const outboxGauge = new Gauge({ name: 'joinlist_outbox_messages', help: 'Outbox messages by status (sending = claimed under a lease)', labelNames: ['status'], registers: [registry] })
  const backlogGauge = new Gauge({ name: 'joinlist_outbox_backlog', help: 'Outbox messages not yet sent (pending + sending)', registers: [registry] })
  const deadGauge = new Gauge({ name: 'joinlist_outbox_dead', help: 'Outbox messages that failed permanently and wait for staff (GET /admin/outbox)', registers: [registry] })
  const oldestGauge = new Gauge({ name: 'joinlist_outbox_oldest_waiting_seconds', help: 'Age of the oldest unsent outbox message', registers: [registry] })
  const subscribersGauge = new Gauge({ name: 'joinlist_subscribers', help: 'Subscribers by status', labelNames: ['status'], registers: [registry] })

  app.get('/metrics', { onRequest: requireScraper }, async (request, reply) => {
    // Read at scrape time, so every instance reports the same shared numbers and nothing polls in between.
    const now = app.now()
    const [{ counts, oldestWaitingSeconds }, subscribers] = await Promise.all([outboxCounts(app.database, now), subscriberCounts(app.database)])
    for (const status of OUTBOX_STATUSES) outboxGauge.set({ status }, counts[status])
    backlogGauge.set(counts.pending + counts.sending)
    deadGauge.set(counts.dead)
    oldestGauge.set(oldestWaitingSeconds)
    for (const status of SUBSCRIBER_STATUSES) subscribersGauge.set({ status }, subscribers[status])
    return reply.header('content-type', registry.contentType).header('cache-control', 'no-store').send(await registry.metrics())
  })
}
