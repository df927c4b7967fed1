// Hashing and constant-time comparison, in one place.
import { createHash, timingSafeEqual } from 'node:crypto'

export const sha256 = (data: string | Buffer): Buffer => createHash('sha256').update(data).digest()

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')

/**
 * Whether two secrets are equal, in time that does not depend on where they differ (OWASP ASVS 5.0 11.2.4).
 * Both sides are hashed first, so their lengths are equal too (timingSafeEqual throws on a length mismatch).
 */
export const safeEqual = (given: string, expected: string): boolean => timingSafeEqual(sha256(given), sha256(expected))
