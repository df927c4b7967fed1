// GET /metrics in Prometheus text format. It takes METRICS_TOKEN (a scrape credential that opens nothing else) or the
// staff token, through the same staff check (and lockout) as every staff route; with neither configured it is closed.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { Gauge, Registry } from 'prom-client'
import { staffErrors } from '../openapi.js'
import { OUTBOX_STATUSES, outboxCounts, SUBSCRIBER_STATUSES, subscriberCounts } from '../outbox/overview.js'

interface Metrics { registry: Registry, outbox: Gauge, backlog: Gauge, dead: Gauge, oldest: Gauge, subscribers: Gauge }

export default async function metricsRoutes (app: FastifyInstance) {
  // Built at the first scrape: prom-client is loaded and its process collectors started only where /metrics is used
  // (an idle process's memory). A registry per app (not prom-client's global one), so several apps in one process
  // (tests) do not clash.
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

  app.get('/metrics', {
    onRequest: app.staffCheck({ alsoAccept: { secret: app.config.metricsToken, actor: 'metrics-token' }, what: 'console.api.metricsAccess' }),
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics',
      description: 'Outbox backlog, dead count, messages by status, subscribers by status and process metrics. `Authorization: Bearer <METRICS_TOKEN>` (or the staff token).',
      security: [{ bearer: [] }],
      response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } }, ...staffErrors }
    }
  }, async (request, reply) => {
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
