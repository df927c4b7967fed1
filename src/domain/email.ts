// Email address validation and normalisation (RFC 5321 §4.5.3.1, RFC 5322 §3.4.1, RFC 5890 for domains).
// Policy: ASCII dot-atom local parts only (no quoted strings, no SMTPUTF8 local parts, no address literals):
// that is what mailbox providers hand out, and it keeps every address safe in an SMTP envelope and a CSV cell.
// Domains may be internationalised; they are stored and compared in their ASCII (punycode) form.
import { domainToASCII, domainToUnicode } from 'node:url'
import { CONTROL_CHARS } from '../text.js'

export type EmailResult =
  | { ok: true, email: string, normalized: string }
  /** `key`: the message's catalogue key under `validation.` (locales/<lang>/messages.json), for the visitor's language. */
  | { ok: false, key: string, message: string }

// RFC 5322 atext, dot-separated, no leading, trailing or double dots.
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
const LOCAL_PART = new RegExp(`^${ATOM}(\\.${ATOM})*$`)
// RFC 1035/5890 label: letters, digits, hyphens; not starting or ending with a hyphen.
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

const fail = (key: string, message: string): EmailResult => ({ ok: false, key, message })

export function parseEmail (input: string): EmailResult {
  // Control characters are refused before any trimming: a trailing CR/LF is an injection attempt, not a typo
  // (header injection). Only plain spaces around a pasted address are forgiven.
  if (CONTROL_CHARS.test(input)) return fail('emailControl', 'The email address contains a control character (such as a line break).')
  const email = input.replace(/^ +| +$/g, '')
  if (email === '') return fail('emailMissing', 'Enter your email address.')
  // Lengths are checked apart from syntax (RFC 5321 §4.5.3.1; RFC 3696 erratum 1690).
  if (email.length > 254) return fail('emailTooLong', 'The email address is too long (at most 254 characters).')
  const at = email.lastIndexOf('@')
  if (at < 0) return fail('emailNoAt', 'Enter an email address like name@example.com (it needs an @).')
  const local = email.slice(0, at)
  const domain = email.slice(at + 1)
  if (local === '') return fail('emailNoLocal', 'Enter the part before the @ in the email address.')
  if (domain === '') return fail('emailNoDomain', 'Enter the part after the @ in the email address, such as example.com.')
  if (Buffer.byteLength(local) > 64) return fail('emailLocalTooLong', 'The part before the @ is too long (at most 64 characters).')
  // eslint-disable-next-line no-control-regex -- the range is "anything outside ASCII", not a control character
  if (/[^\x00-\x7f]/.test(local)) {
    return fail('emailLocalNotAscii', 'Addresses with letters outside A–Z before the @ are not supported: use another address.')
  }
  if (!LOCAL_PART.test(local)) {
    return fail('emailLocalInvalid', 'The part before the @ contains a character or dot that is not allowed in an email address.')
  }
  const asciiDomain = toAsciiDomain(domain)
  if (!asciiDomain) return fail('emailDomainInvalid', 'The part after the @ is not a valid domain, such as example.com.')
  if (local.length + 1 + asciiDomain.length > 254) return fail('emailTooLong', 'The email address is too long (at most 254 characters).')
  // An IDN is stored and mailed in its ASCII form (A-label, RFC 5890): not every SMTP server takes a UTF-8 domain.
  const stored = domain === asciiDomain || domain.toLowerCase() === asciiDomain ? email : `${local}@${asciiDomain}`
  return { ok: true, email: stored, normalized: `${local}@${asciiDomain}`.toLowerCase() }
}

function toAsciiDomain (domain: string): string | undefined {
  if (domain.endsWith('.') || domain.startsWith('[')) return undefined
  // domainToASCII applies UTS #46 (IDNA) mapping and punycode; '' means the name is not a valid domain.
  const ascii = /^[\x21-\x7e]+$/.test(domain) ? domain.toLowerCase() : domainToASCII(domain)
  // Mail goes to the address as typed, so the typed domain must already be its own canonical form (letter
  // case aside): a mapping that changes it ('ｇｍａｉｌ.com' → 'gmail.com', U+2488 '⒈' → '1.') would make the
  // stored key and the actual recipient two different domains.
  // IDNA2008 allows letters, marks and digits in a label, not symbols ('©') that UTS #46 would let through.
  if (ascii !== domain.toLowerCase() && !domain.split('.').every((l) => /^[\p{L}\p{M}\p{N}-]*$/u.test(l))) return undefined
  if (ascii && ascii !== domain.toLowerCase() && domainToUnicode(ascii) !== domain.normalize('NFC').toLowerCase()) return undefined
  if (!ascii || ascii.length > 253) return undefined
  const labels = ascii.split('.')
  if (labels.length < 2) return undefined
  if (!labels.every((l) => LABEL.test(l))) return undefined
  const tld = labels[labels.length - 1]
  // A top-level domain is never all digits; punycode TLDs (xn--…) are fine.
  if (/^[0-9]+$/.test(tld) || tld.length < 2) return undefined
  return ascii
}

/** `jane@example.org` → `j***@example.org`, for log lines (OWASP Logging Cheat Sheet: no personal data in logs). */
export function maskEmail (email: string): string {
  const at = email.lastIndexOf('@')
  if (at < 1) return '***'
  return `${email[0]}***${email.slice(at)}`
}

// An address inside free text: an atext local part, @, and a domain (Unicode letters for internationalised ones).
const ADDRESS_IN_TEXT = /[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[\p{L}\p{N}.-]+/gu

/**
 * Every address inside a text masked as maskEmail does: SMTP servers quote the recipient in their refusals
 * ("550 5.1.1 <jane@example.org>: Recipient address rejected"), and those texts are stored and logged.
 */
export function maskEmailsIn (text: string): string {
  return text.replace(ADDRESS_IN_TEXT, (address) => maskEmail(address))
}
