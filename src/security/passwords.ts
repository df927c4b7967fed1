// Staff passwords: argon2id with OWASP's minimum parameters (19 MiB, 2 passes, 1 lane: OWASP Password Storage Cheat
// Sheet, "Argon2id"), a length rule and a blocklist of the most common passwords (NIST SP 800-63B §3.1.1.2; OWASP
// ASVS 5.0 6.2.1 and 6.2.4). No composition rules and no forced rotation, as both recommend.
import { COMMON_PASSWORDS } from './common-passwords.js'
import type { Said } from '../messages/index.js'

// Loaded on the first password to hash or check, not at start: most requests never need its ~10 MB.
const argon2 = () => import('@node-rs/argon2')
// Algorithm.Argon2id: a const enum in the typings, spelt out so the module need not load at start.
const ARGON2 = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

/** At least 15 characters, as ASVS recommends for a password that is the only factor; long passphrases welcome. */
export const PASSWORD_MIN = 15
export const PASSWORD_MAX = 256

export const hashPassword = async (password: string): Promise<string> => await (await argon2()).hash(password.normalize('NFC'), ARGON2)

// Checked against when the account does not exist or has no password, so a wrong address costs the same work as a
// wrong password (OWASP Authentication Cheat Sheet, "Authentication Responses").
let dummyHash: Promise<string> | undefined

/** Whether the password matches the stored hash; with no hash, does the same work and answers false. */
export async function verifyPassword (stored: string | null | undefined, password: string): Promise<boolean> {
  const given = password.normalize('NFC')
  if (!stored) {
    dummyHash ??= hashPassword('no account has this password, it only costs time')
    await (await argon2()).verify(await dummyHash, given)
    return false
  }
  try {
    return await (await argon2()).verify(stored, given)
  } catch {
    return false
  }
}

/** Why a new password is refused, for the form in its reader's language; undefined when it is acceptable. */
export function passwordProblem (password: string, email: string): Said | undefined {
  const length = [...password].length
  if (length < PASSWORD_MIN) return { key: 'console.passwords.short', vars: { min: PASSWORD_MIN } }
  if (length > PASSWORD_MAX) return { key: 'console.passwords.long', vars: { max: PASSWORD_MAX } }
  const folded = password.toLowerCase().replace(/[\s\d!@#$%^&*._-]+$/, '')
  const local = email.toLowerCase().split('@')[0]
  if (COMMON_PASSWORDS.has(password.toLowerCase()) || COMMON_PASSWORDS.has(folded) || /^(.)\1+$/.test(password)) {
    return { key: 'console.passwords.common' }
  }
  if (local.length >= 4 && password.toLowerCase().includes(local)) return { key: 'console.passwords.address' }
  if (/joinlist/i.test(password)) return { key: 'console.passwords.service' }
  return undefined
}
