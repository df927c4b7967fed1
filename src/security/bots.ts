// Bot filters for sign-ups: a honeypot field, a signed form timestamp (minimum time to submit) and
// an optional domain blocklist. A caught sign-up gets the normal success answer, so a bot learns nothing; a person
// who was merely quick is asked to press the button again.
import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { safeEqual } from '../crypto.js'
import { acceptedSecrets, type Secrets } from '../domain/secrets.js'

/** Form field names: `website` looks worth filling to a bot; people never see it. */
export const HONEYPOT_FIELD = 'website'
export const STAMP_FIELD = 'form_started'

const sign = (secret: string, issuedAt: number) =>
  createHmac('sha256', secret).update(`form-started:${issuedAt}`).digest('base64url').slice(0, 22)

/** A page left open longer than this posts as if it had no stamp: stamps from a retired TOKEN_SECRET die out by then. */
export const STAMP_MAX_AGE_MS = 24 * 3_600_000

/** The hidden timestamp the hosted form carries: when the page was served, signed with TOKEN_SECRET. */
export function formStamp (secrets: Secrets, now: Date): string {
  const issuedAt = now.getTime()
  return `${issuedAt}.${sign(secrets.current, issuedAt)}`
}

export type StampCheck = 'ok' | 'missing' | 'tampered' | 'too-fast'

/**
 * Checks a form's timestamp. Missing is fine (the JSON API and forms embedded on other sites have none), and so
 * is one older than a day; a forged one is a bot; one younger than minSeconds is too fast for a person typing.
 * A stamp signed with TOKEN_SECRET_PREVIOUS still counts, so a rotation does not fail forms already served.
 */
export function checkFormStamp (secrets: Secrets, value: string | undefined, now: Date, minSeconds: number): StampCheck {
  if (value === undefined || value === '') return 'missing'
  const m = /^(\d{1,15})\.([A-Za-z0-9_-]{22})$/.exec(value)
  if (!m) return 'tampered'
  const issuedAt = Number(m[1])
  if (!acceptedSecrets(secrets).some((secret) => safeEqual(m[2], sign(secret, issuedAt)))) return 'tampered'
  const age = now.getTime() - issuedAt
  // A stamp from the future is as wrong as a forged one.
  if (age < 0) return 'tampered'
  if (age > STAMP_MAX_AGE_MS) return 'missing'
  return age < minSeconds * 1000 ? 'too-fast' : 'ok'
}

/** Reads a blocklist: one domain per line; blank lines and `#` comments ignored. IDNs are stored as punycode. */
export function loadBlocklist (file: string): Set<string> {
  const domains = new Set<string>()
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const entry = line.replace(/#.*/, '').trim().replace(/^@/, '').replace(/\.$/, '').toLowerCase()
    if (!entry) continue
    domains.add(new URL(`http://${entry}`).hostname)
  }
  return domains
}

/** True if the (ASCII, lower-case) domain or any parent of it is on the list: subdomains are included. */
export function isBlockedDomain (blocklist: Set<string>, domain: string): boolean {
  if (blocklist.size === 0) return false
  const labels = domain.split('.')
  for (let i = 0; i < labels.length - 1; i++) {
    if (blocklist.has(labels.slice(i).join('.'))) return true
  }
  return false
}
