// The lockout after failed staff logins, one counter per client for every staff route: counted in Redis when
// REDIS_URL is set (shared by every instance), per process otherwise and whenever Redis cannot be reached.
// OWASP Authentication Cheat Sheet, "Protect against automated attacks"; OWASP ASVS 5.0 6.3.1.
import { createRequire } from 'node:module'
import type { Redis } from 'ioredis'
import type * as Flexible from 'rate-limiter-flexible'

// rate-limiter-flexible's index loads every store it supports (MongoDB, MySQL, DynamoDB, …): about 10 MB of an idle
// process. Only the two stores used here are loaded, each from its own module.
const require = createRequire(import.meta.url)
const RateLimiterMemory = require('rate-limiter-flexible/lib/RateLimiterMemory.js') as typeof Flexible.RateLimiterMemory
const RateLimiterRes = require('rate-limiter-flexible/lib/RateLimiterRes.js') as typeof Flexible.RateLimiterRes
const loadRedisStore = () => require('rate-limiter-flexible/lib/RateLimiterRedis.js') as typeof Flexible.RateLimiterRedis

export interface StaffLockout {
  /**
   * Counts one staff login attempt from this client before its credential is checked. Returns 0 if the credential
   * may be checked, else the seconds until the client may try again (it is locked out).
   */
  attempt(client: string): Promise<number>
  /** Gives back the attempt of a login that succeeded: only failures lock a client out. */
  succeeded(client: string): Promise<void>
}

export interface StaffLockoutOptions {
  failures: number
  windowSeconds: number
  keyPrefix: string
  redis?: Redis
}

export function staffLockout (opts: StaffLockoutOptions): StaffLockout {
  const limits = { points: opts.failures, duration: opts.windowSeconds, keyPrefix: `${opts.keyPrefix}staff-failures` }
  // While Redis is away every call falls through to this per-process counter (rate-limiter-flexible's "insurance
  // limiter"): the lockout then holds per instance instead of switching off.
  const perProcess = new RateLimiterMemory(limits)
  const RateLimiterRedis = opts.redis && loadRedisStore()
  const limiter: Flexible.RateLimiterAbstract = RateLimiterRedis
    ? new RateLimiterRedis({ ...limits, storeClient: opts.redis, rejectIfRedisNotReady: true, insuranceLimiter: perProcess })
    : perProcess
  return {
    // One atomic increment per attempt, before the check: reading the count first and recording the failure after
    // would let guesses sent at the same moment all pass the read before any of them was counted.
    async attempt (client) {
      try {
        await limiter.consume(client)
        return 0
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err
        return Math.max(1, Math.ceil(err.msBeforeNext / 1000))
      }
    },
    async succeeded (client) {
      await limiter.reward(client)
    }
  }
}
