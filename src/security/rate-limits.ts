// Per-client rate limits for the public endpoints and a lockout for failed staff logins (STANDARDS C17–C19),
// with the counters in Redis when REDIS_URL is set so that every instance shares one limit.
import fp from 'fastify-plugin'
import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import type { Redis } from 'ioredis'
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { verifyUnsubscribeToken } from '../domain/tokens.js'

/** The client key: request.ip is the socket peer unless that peer is in TRUST_PROXY (C19); IPv6 by /64. */
export const clientKey = (request: FastifyRequest): string => normalizeIP(request.ip)

export interface StaffLockout {
  /** Seconds until this client may try again, or 0 if it is not locked out. Never counts as an attempt. */
  lockedFor(request: FastifyRequest): Promise<number>
  /** Records a failed staff login from this client. */
  failed(request: FastifyRequest): Promise<void>
}

export default fp(async (app) => {
  const { config } = app
  const limits = config.rateLimit
  const windowMs = limits.windowSeconds * 1000

  let redis: Redis | undefined
  if (config.redisUrl) {
    // Fail fast instead of queueing while Redis is away: with skipOnError below, a request then goes through
    // unlimited rather than waiting or failing.
    // Loaded only when configured: the client library is a sizeable share of an idle process's memory (issue #5).
    const { Redis } = await import('ioredis')
    redis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 1000 })
    let healthy = true
    redis.on('error', (err) => {
      if (healthy) app.log.warn({ err: { message: err.message } }, 'redis unavailable: rate limits are not enforced until it is back')
      healthy = false
    })
    redis.on('ready', () => { healthy = true })
    app.addHook('onReady', async () => {
      // Wait (briefly) for the first connection, so the first requests are counted too.
      if (redis!.status === 'ready') return
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000)
        redis!.once('ready', () => { clearTimeout(timer); resolve() })
      })
    })
    app.addHook('onClose', async () => { redis!.disconnect() })
  }

  // Which routes are limited, and by what key. Kept in one table so the route files stay about HTTP.
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = ([] as string[]).concat(route.method)
    const limit = routeLimit(route.url ?? '', methods)
    if (limit) route.config = { ...(route.config as object), rateLimit: limit }
  })

  function routeLimit (url: string, methods: string[]) {
    if (url === '/subscribe' && methods.includes('POST')) {
      return { max: limits.subscribeMax, timeWindow: windowMs, keyGenerator: clientKey }
    }
    if (url === '/confirm/:token') return { max: limits.tokenMax, timeWindow: windowMs, keyGenerator: clientKey }
    if (url === '/unsubscribe/:token') {
      // RFC 8058: mailbox providers post one-click unsubscribes for many of their users from a few addresses.
      // A link that carries a genuine signature is counted per subscriber, not per client, so those posts are
      // never refused; a forged or damaged token (cheap to check, no database) is counted per client.
      return { max: limits.tokenMax, timeWindow: windowMs, keyGenerator: unsubscribeKey }
    }
    return undefined
  }

  function unsubscribeKey (request: FastifyRequest): string {
    const token = (request.params as { token?: string } | undefined)?.token ?? ''
    const publicId = verifyUnsubscribeToken(config.tokenSecret, token)
    return publicId ? `subscriber:${publicId}` : clientKey(request)
  }

  await app.register(rateLimit, {
    global: false,
    nameSpace: limits.prefix,
    redis,
    // Redis down → let requests through rather than fail every sign-up and every unsubscribe with a 500.
    // Unsubscribes must keep working (RFC 8058, STANDARDS A5), and list-bombing stays capped by the
    // per-address cooldown kept in PostgreSQL; what is lost for that while is only the per-client cap.
    skipOnError: true,
    errorResponseBuilder: (_request, context) => Object.assign(
      new Error(`Too many requests from your network. Try again in ${context.after}.`), { statusCode: 429 })
  })

  const staffLimiter = app.createRateLimit({
    max: limits.staffFailures,
    timeWindow: limits.staffWindowSeconds * 1000,
    keyGenerator: (request) => `staff-login-failures:${clientKey(request)}`
  })
  const lockout: StaffLockout = {
    async lockedFor (request) {
      const state = await staffLimiter(request, { increment: false })
      if (state.isAllowed || state.remaining > 0) return 0
      return Math.max(1, state.ttlInSeconds)
    },
    async failed (request) { await staffLimiter(request) }
  }
  app.decorate('staffLockout', lockout)
}, { name: 'rate-limits', dependencies: ['errors'] })

/** A 429 the way the error handler words it, with Retry-After (RFC 9110 §10.2.3). */
export function tooManyRequests (reply: FastifyReply, seconds: number): Error {
  reply.header('retry-after', String(seconds))
  return Object.assign(new Error(`Too many failed attempts from your network. Try again in ${seconds} seconds.`), { statusCode: 429 })
}

declare module 'fastify' {
  interface FastifyInstance {
    staffLockout: StaffLockout
  }
}
