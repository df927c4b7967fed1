// Which inbox an address reaches, for throttling confirmation mails (list-bombing): `jane+news@example.org` and
// `jane@example.org` are one inbox, and at Gmail so is `j.a.n.e@googlemail.com`.

// Providers that ignore dots in the local part (Gmail's help: "Dots don't matter in Gmail addresses").
const DOTS_IGNORED = new Set(['gmail.com', 'googlemail.com'])
const ALIASES: Record<string, string> = { 'googlemail.com': 'gmail.com' }

/**
 * Large mailbox providers, not counted by the per-domain cap: a popular sign-up page gets thousands of their users
 * an hour, and each of their mailboxes is still throttled on its own. The cap is for organisations' own domains.
 */
const LARGE_PROVIDERS = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'hotmail.co.uk', 'live.com', 'live.co.uk', 'msn.com',
  'yahoo.com', 'yahoo.co.uk', 'ymail.com', 'icloud.com', 'me.com', 'mac.com', 'aol.com', 'proton.me', 'protonmail.com',
  'gmx.com', 'gmx.de', 'gmx.net', 'web.de', 'mail.com', 'zoho.com', 'yandex.ru', 'mail.ru', 'qq.com', '163.com'
])

/** The inbox a normalised address delivers to: sub-address (RFC 5233 "+detail") dropped, provider quirks applied. */
export function mailboxOf (emailNormalized: string): string {
  const at = emailNormalized.lastIndexOf('@')
  const domain = emailNormalized.slice(at + 1)
  let local = emailNormalized.slice(0, at)
  const plus = local.indexOf('+')
  if (plus > 0) local = local.slice(0, plus)
  if (DOTS_IGNORED.has(domain)) local = local.replaceAll('.', '')
  return `${local}@${Object.hasOwn(ALIASES, domain) ? ALIASES[domain] : domain}`
}

/** The domain whose hourly cap a sign-up counts toward, or undefined for a large provider. */
export function cappedDomain (emailNormalized: string): string | undefined {
  const domain = emailNormalized.slice(emailNormalized.lastIndexOf('@') + 1)
  return LARGE_PROVIDERS.has(domain) ? undefined : domain
}
