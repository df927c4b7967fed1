// Confirmation and unsubscribe tokens: random bits from the CSPRNG (OWASP ASVS 5.0 11.5.1), never derived from a
// server secret, so nothing secret is needed to check them but the row they belong to.
import { createHmac, randomFillSync } from 'node:crypto'
import { safeEqual, sha256Hex } from '../crypto.js'

// The CSPRNG is asked for 128 tokens' worth of bytes at a time (as Node does for randomUUID): one call per token
// was a measurable share of a sign-up's CPU. Each token still takes 32 bytes no other token sees.
const TOKEN_BYTES = 32
const pool = Buffer.alloc(TOKEN_BYTES * 128)
let poolOffset = pool.length

/** 256 random bits, URL-safe. */
export function randomToken (): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const token = pool.toString('base64url', poolOffset, poolOffset + TOKEN_BYTES)
  poolOffset += TOKEN_BYTES
  return token
}

/** A confirmation token: only its hash is stored (a database copy cannot confirm anyone). */
export function newConfirmToken (): { token: string, hash: string } {
  const token = randomToken()
  return { token, hash: hashToken(token) }
}

/** What is stored of a confirmation token: its SHA-256, hex. */
export const hashToken = (token: string): string => sha256Hex(token)

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
export const TOKEN_PATTERN = /^[A-Za-z0-9_.-]{16,200}$/

/**
 * The unsubscribe token in every mail and in the CSV: the subscriber's public id and their unsubscribe secret. It
 * never expires, so a link in an old mail keeps working (RFC 8058 §3.1: a hard-to-forge part identifies the
 * recipient).
 */
export const unsubscribeToken = (publicId: string, secret: string): string => `${publicId}.${secret}`

/** The two parts of a well-formed unsubscribe token, or undefined. Genuine only if the secret matches the row's. */
export function parseUnsubscribeToken (token: string): { publicId: string, secret: string } | undefined {
  const dot = token.indexOf('.')
  const publicId = token.slice(0, dot)
  const secret = token.slice(dot + 1)
  if (dot < 0 || !UUID.test(publicId) || !/^[A-Za-z0-9_-]{32,100}$/.test(secret)) return undefined
  return { publicId, secret }
}

/** Whether the secret from a link is the row's, in constant time. */
export const secretMatches = (given: string, stored: string | null): boolean => stored !== null && safeEqual(given, stored)

/**
 * The secret that links mailed before unsubscribe secrets were stored carry: they were signed, HMAC-SHA256 of the
 * public id under TOKEN_SECRET. Used once per old row, to store what its mails already say.
 */
export const legacyUnsubscribeSecret = (tokenSecret: string, publicId: string): string =>
  createHmac('sha256', tokenSecret).update(`unsubscribe:${publicId}`).digest('base64url')
