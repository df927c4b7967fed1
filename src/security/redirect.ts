// Where a form post may send the visitor afterwards (OWASP Unvalidated Redirects and Forwards Cheat Sheet):
// only a path on this site, or a URL on an origin listed in ALLOWED_REDIRECT_ORIGINS.

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0020\u007f-\u009f\\]/

/** The URL to redirect to, or undefined if the value is not allowed (the caller then uses its default). */
export function safeRedirect (value: string | undefined, publicUrl: string, allowedOrigins: string[]): string | undefined {
  if (!value || value.length > 2000 || UNSAFE.test(value)) return undefined
  if (value.startsWith('/')) {
    // `//host` and `/\host` are protocol-relative to browsers: another site. Backslashes are refused above.
    if (value.startsWith('//')) return undefined
    const url = URL.parse(value, publicUrl)
    if (!url || url.origin !== new URL(publicUrl).origin) return undefined
    return url.pathname + url.search + url.hash
  }
  const url = URL.parse(value)
  if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password) return undefined
  return allowedOrigins.includes(url.origin) ? url.href : undefined
}
