// Hashing and constant-time comparison, in one place.
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export const sha256 = (data: string | Buffer): Buffer => createHash('sha256').update(data).digest()

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')

/**
 * Whether two secrets are equal, in time that does not depend on where they differ (OWASP ASVS 5.0 11.2.4).
 * Both sides are hashed first, so their lengths are equal too (timingSafeEqual throws on a length mismatch).
 */
export const safeEqual = (given: string, expected: string): boolean => timingSafeEqual(sha256(given), sha256(expected))

/**
 * A small value sealed for a round trip through the visitor's browser (AES-256-GCM, key derived from a server
 * secret): the "check your email" page echoes the address the visitor typed, and nobody can forge or read the value
 * on the way. Unsealing gives undefined when it is forged, damaged or older than `maxAgeMs`.
 */
export function seal (secret: string, value: object, now: Date): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', sealKey(secret), iv)
  const body = Buffer.concat([cipher.update(JSON.stringify({ v: value, t: now.getTime() }), 'utf8'), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')
}

export function unseal<T> (secret: string, sealed: string, now: Date, maxAgeMs: number): T | undefined {
  try {
    const raw = Buffer.from(sealed, 'base64url')
    const decipher = createDecipheriv('aes-256-gcm', sealKey(secret), raw.subarray(0, 12))
    decipher.setAuthTag(raw.subarray(12, 28))
    const { v, t } = JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8'))
    return typeof t === 'number' && now.getTime() - t <= maxAgeMs && now.getTime() >= t - 60_000 ? v as T : undefined
  } catch {
    return undefined
  }
}

const sealKey = (secret: string) => createHash('sha256').update(`joinlist sealed page state\0${secret}`).digest()
