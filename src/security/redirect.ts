// Where a form post may send the visitor afterwards (OWASP Unvalidated Redirects and Forwards Cheat Sheet):
// only a path on this site, or a URL on an origin listed in ALLOWED_REDIRECT_ORIGINS.

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0020\u007f-\u009f\\]/
// `//host` and `/\host` are protocol-relative to browsers: another site.
const PROTOCOL_RELATIVE = /^\/[/\\]/

/** The URL to redirect to, or undefined if the value is not allowed (the caller then uses its default). */
export function safeRedirect (value: string | undefined, publicUrl: string, allowedOrigins: string[]): string | undefined {
  if (!value || value.length > 2000 || UNSAFE.test(value)) return undefined
  if (value.startsWith('/')) return sitePath(value, publicUrl)
  const url = URL.parse(value)
  if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password) return undefined
  return allowedOrigins.includes(url.origin) ? url.href : undefined
}

/**
 * A path on this site, judged as the browser will read it: after the URL parser has removed dot segments
 * (RFC 3986 §5.2.4; `%2e` counts as a dot), `/.//evil.example` is `//evil.example`, another site.
 */
function sitePath (value: string, publicUrl: string): string | undefined {
  if (PROTOCOL_RELATIVE.test(value)) return undefined
  const url = URL.parse(value, publicUrl)
  if (!url || url.origin !== new URL(publicUrl).origin) return undefined
  const path = url.pathname + url.search + url.hash
  return PROTOCOL_RELATIVE.test(path) ? undefined : path
}
