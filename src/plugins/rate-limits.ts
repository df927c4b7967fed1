// Rate limiting: @fastify/rate-limit with the counters in Redis when REDIS_URL is set, so every instance shares one
// limit (the plugin's in-memory store is per process), and the lockout for failed staff logins
// (src/security/staff-lockout.ts). Each route declares its own limit in `config.rateLimit` (see routeLimit).
// OWASP ASVS 5.0 2.4.1; the Forgot Password Cheat Sheet.
import fp from 'fastify-plugin'
import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import type { Redis } from 'ioredis'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { staffLockout, type StaffLockout } from '../security/staff-lockout.js'

/**
 * The client key: request.ip is the socket peer unless that peer is in TRUST_PROXY, so a forged X-Forwarded-For
 * changes nothing; IPv6 clients are counted per /64.
 */
export const clientKey = (request: FastifyRequest): string => normalizeIP(request.ip)

/** A route's `config.rateLimit`: at most `max` requests per RATE_LIMIT_WINDOW_SECONDS per key (default: per client). */
export function routeLimit (config: Config, max: number,
  keyGenerator: (request: FastifyRequest) => string | Promise<string> = clientKey) {
  return { max, timeWindow: config.rateLimitWindowSeconds * 1000, keyGenerator }
}

export default fp(async (app) => {
  const { config } = app

  let redis: Redis | undefined
  if (config.redisUrl) {
    // Fail fast instead of queueing while Redis is away: with skipOnError below, a request then goes through
    // unlimited rather than waiting or failing (the staff lockout counts per process instead).
    // Loaded only when configured: the client library is a sizeable share of an idle process's memory.
    const { Redis } = await import('ioredis')
    redis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 1000 })
    let healthy = true
    redis.on('error', (err) => {
      if (healthy) app.log.warn({ err: { message: err.message } }, 'redis unavailable: sign-up and link limits are not enforced, and the staff lockout counts per process, until it is back')
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

  await app.register(rateLimit, {
    global: false,
    nameSpace: config.rateLimitPrefix,
    redis,
    // Redis down → let requests through rather than fail every sign-up and every unsubscribe with a 500.
    // Unsubscribes must keep working (RFC 8058; mailbox providers expect them honoured within two days), and
    // list-bombing stays capped by the per-address cooldown kept in PostgreSQL; only the per-client cap is lost.
    // Not so the staff lockout below: it never switches off.
    skipOnError: true,
    // The error handler words it in the visitor's language from Retry-After; this English text is its fallback.
    errorResponseBuilder: (_request, context) => Object.assign(
      new Error(`Too many requests from your network. Try again in ${context.after}.`), { statusCode: 429, code: RATE_LIMITED })
  })

  app.decorate('staffLockout', staffLockout({
    failures: config.rateLimitStaffFailures,
    windowSeconds: config.rateLimitStaffWindowSeconds,
    keyPrefix: config.rateLimitPrefix,
    redis
  }))
}, { name: 'rate-limits', dependencies: ['errors'] })

/** The code of a 429 from a route's rate limit (not the staff lockout, which words its own). */
export const RATE_LIMITED = 'JOINLIST_RATE_LIMITED'

/** A 429 the way the error handler words it, with Retry-After (RFC 9110 §10.2.3). */
export function tooManyRequests (reply: FastifyReply, seconds: number): Error {
  reply.header('retry-after', String(seconds))
  return Object.assign(new Error(`Too many failed attempts from your network. Try again in ${seconds} seconds.`), { statusCode: 429 })
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The lockout after failed staff logins, keyed by clientKey(request). */
    staffLockout: StaffLockout
  }
}
