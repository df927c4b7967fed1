// Email address validation and normalisation (STANDARDS B12–B15).
// Policy: ASCII dot-atom local parts only (no quoted strings, no SMTPUTF8 local parts, no address literals):
// that is what mailbox providers hand out, and it keeps every address safe in an SMTP envelope and a CSV cell.
// Domains may be internationalised; they are stored and compared in their ASCII (punycode) form.
import { domainToASCII } from 'node:url'

export type EmailResult =
  | { ok: true, email: string, normalized: string }
  | { ok: false, message: string }

// RFC 5322 atext, dot-separated, no leading, trailing or double dots.
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
const LOCAL_PART = new RegExp(`^${ATOM}(\\.${ATOM})*$`)
// RFC 1035/5890 label: letters, digits, hyphens; not starting or ending with a hyphen.
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

const fail = (message: string): EmailResult => ({ ok: false, message })

export function parseEmail (input: string): EmailResult {
  const email = input.trim()
  if (email === '') return fail('Enter your email address.')
  if (CONTROL.test(email)) return fail('The email address contains a control character (such as a line break).')
  // Lengths are checked apart from syntax (RFC 5321 §4.5.3.1; RFC 3696 erratum 1690).
  if (email.length > 254) return fail('The email address is too long (at most 254 characters).')
  const at = email.lastIndexOf('@')
  if (at < 0) return fail('Enter an email address like name@example.com (it needs an @).')
  const local = email.slice(0, at)
  const domain = email.slice(at + 1)
  if (local === '') return fail('Enter the part before the @ in the email address.')
  if (domain === '') return fail('Enter the part after the @ in the email address, such as example.com.')
  if (Buffer.byteLength(local) > 64) return fail('The part before the @ is too long (at most 64 characters).')
  if (!LOCAL_PART.test(local)) {
    return fail('The part before the @ contains a character or dot that is not allowed in an email address.')
  }
  const asciiDomain = toAsciiDomain(domain)
  if (!asciiDomain) return fail('The part after the @ is not a valid domain, such as example.com.')
  if (local.length + 1 + asciiDomain.length > 254) return fail('The email address is too long (at most 254 characters).')
  return { ok: true, email, normalized: `${local}@${asciiDomain}`.toLowerCase() }
}

function toAsciiDomain (domain: string): string | undefined {
  if (domain.endsWith('.') || domain.startsWith('[')) return undefined
  // domainToASCII applies UTS #46 (IDNA) mapping and punycode; '' means the name is not a valid domain.
  const ascii = /^[\x21-\x7e]+$/.test(domain) ? domain.toLowerCase() : domainToASCII(domain)
  if (!ascii || ascii.length > 253) return undefined
  const labels = ascii.split('.')
  if (labels.length < 2) return undefined
  if (!labels.every((l) => LABEL.test(l))) return undefined
  const tld = labels[labels.length - 1]
  // A top-level domain is never all digits; punycode TLDs (xn--…) are fine.
  if (/^[0-9]+$/.test(tld) || tld.length < 2) return undefined
  return ascii
}

/** `jane@example.org` → `j***@example.org`, for log lines (STANDARDS C25). */
export function maskEmail (email: string): string {
  const at = email.lastIndexOf('@')
  if (at < 1) return '***'
  return `${email[0]}***${email.slice(at)}`
}
