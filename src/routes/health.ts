// Liveness and readiness for operators and load balancers.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'

const ready = z.object({ status: z.literal('ready') }).describe('The database answers')
const unavailable = z.object({ status: z.literal('unavailable'), message: z.string() }).describe('The database does not answer')

export default async function healthRoutes (app: FastifyInstance) {
  app.get('/healthz', {
    schema: { tags: ['operations'], summary: 'Liveness', response: { 200: z.object({ status: z.literal('ok') }).describe('The process is up') } }
  }, async () => ({ status: 'ok' }))

  app.get('/readyz', {
    schema: { tags: ['operations'], summary: 'Readiness', response: { 200: ready, 503: unavailable } }
  }, async (request, reply) => {
    try {
      await withTimeout(app.database.ping(), 2000)
      return { status: 'ready' }
    } catch {
      return reply.code(503).send({ status: 'unavailable', message: 'The database does not answer.' })
    }
  })
}

function withTimeout<T> (p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout
  return Promise.race([p, new Promise<T>((_resolve, reject) => { timer = setTimeout(() => reject(new Error('timeout')), ms) })])
    .finally(() => clearTimeout(timer))
}
