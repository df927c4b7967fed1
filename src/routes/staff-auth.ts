// Staff authentication shared by every staff route (export, dashboard): `Authorization: Bearer <ADMIN_TOKEN>`,
// or HTTP Basic with ADMIN_TOKEN as the password, so a browser shows its login prompt (RFC 7617).
// Without ADMIN_TOKEN configured, staff endpoints are closed (503).
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { tooManyRequests } from '../security/rate-limits.js'

const digest = (s: string) => createHash('sha256').update(s).digest()

/** The staff credential from either header form, compared in constant time (hashing evens the lengths). */
export function isStaff (request: FastifyRequest, adminToken: string): boolean {
  const header = request.headers.authorization ?? ''
  let given: string | undefined
  if (/^Bearer /i.test(header)) given = header.slice(7).trim()
  else if (/^Basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
    given = decoded.slice(decoded.indexOf(':') + 1)
  }
  return given !== undefined && timingSafeEqual(digest(given), digest(adminToken))
}

/** An onRequest hook: lets staff through, answers everyone else 401 (with the Basic challenge) or 503. */
export async function requireStaff (request: FastifyRequest, reply: FastifyReply) {
  const token = request.server.config.adminToken
  if (!token) {
    return reply.code(503).send({ error: 'staff_disabled', message: 'Staff access is off: set ADMIN_TOKEN (at least 32 characters) to turn it on.' })
  }
  // Basic credentials are ambient like a cookie: a browser would send them with a form posted from another site.
  // A state-changing staff request must come from this site or from a script (STANDARDS C23).
  if (request.method !== 'GET' && request.method !== 'HEAD' && isCrossSite(request)) {
    return reply.code(403).send({ error: 'cross_site', message: 'Staff changes must come from this site or from a script, not from another website.' })
  }
  // A client that failed too often is locked out before its credential is even checked (issue #3).
  const lockedFor = await request.server.staffLockout.lockedFor(request)
  if (lockedFor > 0) throw tooManyRequests(reply, lockedFor)
  if (!isStaff(request, token)) {
    await request.server.staffLockout.failed(request)
    return reply.code(401).header('www-authenticate', 'Basic realm="Joinlist staff", charset="UTF-8"')
      .send({ error: 'unauthorized', message: 'Staff only: send Authorization: Bearer <ADMIN_TOKEN>, or log in with ADMIN_TOKEN as the password.' })
  }
}

/** Sec-Fetch-Site where the browser sends it, else the Origin header against PUBLIC_URL; scripts send neither. */
function isCrossSite (request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site']
  if (typeof site === 'string') return site !== 'same-origin' && site !== 'none'
  const origin = request.headers.origin
  return typeof origin === 'string' && origin !== new URL(request.server.config.publicUrl).origin
}
