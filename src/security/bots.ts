// Bot filters for sign-ups: a honeypot field, a signed form timestamp (minimum time to submit) and
// an optional domain blocklist. A caught sign-up gets the normal success answer, so a bot learns nothing.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'

/** Form field names: `website` looks worth filling to a bot; people never see it. */
export const HONEYPOT_FIELD = 'website'
export const STAMP_FIELD = 'form_started'

const sign = (secret: string, issuedAt: number) =>
  createHmac('sha256', secret).update(`form-started:${issuedAt}`).digest('base64url').slice(0, 22)

/** The hidden timestamp the hosted form carries: when the page was served, signed with TOKEN_SECRET. */
export function formStamp (secret: string, now: Date): string {
  const issuedAt = now.getTime()
  return `${issuedAt}.${sign(secret, issuedAt)}`
}

export type StampCheck = 'ok' | 'missing' | 'tampered' | 'too-fast'

/**
 * Checks a form's timestamp. Missing is fine (the JSON API and forms embedded on other sites have none);
 * a forged one, or one younger than minSeconds (people take seconds to type an address), is a bot.
 */
export function checkFormStamp (secret: string, value: string | undefined, now: Date, minSeconds: number): StampCheck {
  if (value === undefined || value === '') return 'missing'
  const m = /^(\d{1,15})\.([A-Za-z0-9_-]{22})$/.exec(value)
  if (!m) return 'tampered'
  const issuedAt = Number(m[1])
  const expected = Buffer.from(sign(secret, issuedAt))
  if (!timingSafeEqual(Buffer.from(m[2]), expected)) return 'tampered'
  const age = now.getTime() - issuedAt
  // A stamp from the future is as wrong as a forged one.
  if (age < 0) return 'tampered'
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
