// Confirmation and unsubscribe tokens: 256 random bits from the CSPRNG (OWASP ASVS 5.0 11.5.1), hard to forge (RFC 8058 §3.1).
import { createHmac, randomFillSync, timingSafeEqual } from 'node:crypto'
import { sha256, sha256Hex } from '../crypto.js'

// The CSPRNG is asked for 128 tokens' worth of bytes at a time (as Node does for randomUUID): one call per token
// was a measurable share of a sign-up's CPU. Each token still takes 32 bytes no other token sees.
const TOKEN_BYTES = 32
const pool = Buffer.alloc(TOKEN_BYTES * 128)
let poolOffset = pool.length

/** A confirmation token: 256 random bits from the CSPRNG, URL-safe. Only its hash is stored. */
export function newConfirmToken (): { token: string, hash: string } {
  if (poolOffset === pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const token = pool.toString('base64url', poolOffset, poolOffset + TOKEN_BYTES)
  poolOffset += TOKEN_BYTES
  return { token, hash: hashToken(token) }
}

/** What is stored of a confirmation token: its SHA-256, hex. */
export const hashToken = (token: string): string => sha256Hex(token)

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
export const TOKEN_PATTERN = /^[A-Za-z0-9_.-]{16,200}$/

/**
 * The unsubscribe token: the subscriber's public id and an HMAC over it. It never expires, so a link in an old
 * mail keeps working; it cannot be forged without TOKEN_SECRET. The export computes the same HMAC in SQL
 * (see unsubscribeHmacKeys).
 */
export function unsubscribeToken (secret: string, publicId: string): string {
  return `${publicId}.${unsubscribeSignature(secret, publicId)}`
}

function unsubscribeSignature (secret: string, publicId: string): string {
  return createHmac('sha256', secret).update(`unsubscribe:${publicId}`).digest('base64url')
}

/** Returns the public id if the token is genuine, else undefined; compares in constant time. */
export function verifyUnsubscribeToken (secret: string, token: string): string | undefined {
  const dot = token.indexOf('.')
  const publicId = token.slice(0, dot)
  if (dot < 0 || !UUID.test(publicId)) return undefined
  const given = Buffer.from(token.slice(dot + 1))
  const expected = Buffer.from(unsubscribeSignature(secret, publicId))
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  return publicId
}

/**
 * HMAC-SHA256 (RFC 2104) split into its padded inner and outer keys, so SQL can compute
 * sha256(opad || sha256(ipad || message)) with PostgreSQL's built-in sha256(), no extension needed.
 */
export function unsubscribeHmacKeys (secret: string): { ipad: Buffer, opad: Buffer } {
  let key: Buffer = Buffer.from(secret)
  if (key.length > 64) key = sha256(key)
  const block = Buffer.alloc(64)
  key.copy(block)
  return {
    ipad: Buffer.from(block.map((b) => b ^ 0x36)),
    opad: Buffer.from(block.map((b) => b ^ 0x5c))
  }
}
