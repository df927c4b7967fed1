// Security headers (CSP, Referrer-Policy, HSTS, …) from helmet, computed once at start instead of per request:
// @fastify/helmet re-runs helmet() for every request, re-parsing the CSP, which the sign-up bench measured at
// about a tenth of the app's own CPU per sign-up. Same options, same header values.
import type { IncomingMessage, ServerResponse } from 'node:http'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'

/** The headers helmet would set with these options (no per-request values such as CSP nonces are used). */
export function helmetHeaders (options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  const res = {
    setHeader (name: string, value: unknown) { headers[name.toLowerCase()] = String(value) },
    removeHeader (name: string) { delete headers[name.toLowerCase()] }
  }
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, () => {})
  return headers
}

export default fp<HelmetOptions>(async (app, options) => {
  const headers = helmetHeaders(options)
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers)
    done()
  })
}, { name: 'security-headers' })
