// Liveness and readiness for operators and load balancers.
import type { FastifyInstance } from 'fastify'

export default async function healthRoutes (app: FastifyInstance) {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (request, reply) => {
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
