// Operating endpoints: the outbox for staff (dead letters and retrying them, STANDARDS F32) and GET /metrics in
// Prometheus text format. /metrics takes METRICS_TOKEN (a scrape credential that cannot export the list) or the
// staff token; with neither configured it is closed (503), like every staff endpoint.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Gauge, Registry } from 'prom-client'
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

  interface Metrics { registry: Registry, outbox: Gauge, backlog: Gauge, dead: Gauge, oldest: Gauge, subscribers: Gauge }
  // Built at the first scrape: prom-client is loaded and its process collectors started only where /metrics is
  // used (issue #5: an idle process's memory). A registry per app (not prom-client's global one), so several apps
  // in one process (tests) do not clash.
  let metrics: Promise<Metrics> | undefined
  const buildMetrics = async (): Promise<Metrics> => {
    const { collectDefaultMetrics, Gauge, Registry } = await import('prom-client')
    const registry = new Registry()
    collectDefaultMetrics({ register: registry })
    const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [registry] })
    return {
      registry,
      outbox: gauge('joinlist_outbox_messages', 'Outbox messages by status (sending = claimed under a lease)', ['status']),
      backlog: gauge('joinlist_outbox_backlog', 'Outbox messages not yet sent (pending + sending)'),
      dead: gauge('joinlist_outbox_dead', 'Outbox messages that failed permanently and wait for staff (GET /admin/outbox)'),
      oldest: gauge('joinlist_outbox_oldest_waiting_seconds', 'Age of the oldest unsent outbox message'),
      subscribers: gauge('joinlist_subscribers', 'Subscribers by status', ['status'])
    }
  }

  app.get('/metrics', { onRequest: requireScraper }, async (request, reply) => {
    // Read at scrape time, so every instance reports the same shared numbers and nothing polls in between.
    const now = app.now()
    metrics ??= buildMetrics().catch((err: unknown) => { metrics = undefined; throw err })
    const [m, { counts, oldestWaitingSeconds }, subscribers] = await Promise.all([metrics, outboxCounts(app.database, now), subscriberCounts(app.database)])
    for (const status of OUTBOX_STATUSES) m.outbox.set({ status }, counts[status])
    m.backlog.set(counts.pending + counts.sending)
    m.dead.set(counts.dead)
    m.oldest.set(oldestWaitingSeconds)
    for (const status of SUBSCRIBER_STATUSES) m.subscribers.set({ status }, subscribers[status])
    return reply.header('content-type', m.registry.contentType).header('cache-control', 'no-store').send(await m.registry.metrics())
  })
}
