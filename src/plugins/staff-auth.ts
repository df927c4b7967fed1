// Staff authentication, in one place for every staff route: `Authorization: Bearer <ADMIN_TOKEN>`, or HTTP Basic with
// ADMIN_TOKEN as the password so a browser shows its login prompt (RFC 7617). Without ADMIN_TOKEN the staff routes
// are closed (503). Registered once as an onRequest hook for everything under /admin (src/routes/admin/index.ts),
// and on GET /metrics; every credential on every one of them goes through the same lockout.
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { safeEqual } from '../crypto.js'
import { sendHtml, wantsHtml } from '../http.js'
import { crossSitePage } from '../pages/admin.js'
import { staffPageContext } from '../pages/context.js'
import { CONTROL_CHARS } from '../text.js'
import { clientKey, tooManyRequests } from './rate-limits.js'

/**
 * What a member of staff may do: a viewer sees and exports; an editor also changes subscribers, lists and mail; an
 * owner also manages staff, keys and webhooks. ADMIN_TOKEN is an owner.
 */
export const STAFF_ROLES = ['viewer', 'editor', 'owner'] as const
export type StaffRole = typeof STAFF_ROLES[number]

/** Who made a staff request, as the consent ledger records it: a label, never the secret. */
export interface StaffIdentity {
  /** `basic:<user name>` when a person logged in with one, else the shared credential's label. */
  actor: string
  role: StaffRole
}

/**
 * The role a staff route needs: its own `config.staffRole`, else viewer to read (GET, HEAD) and editor to change.
 * Declared on the route, next to its handler, so the rule for each route is where the route is.
 */
export function requiredRole (request: FastifyRequest): StaffRole {
  return request.routeOptions.config.staffRole ?? (request.method === 'GET' || request.method === 'HEAD' ? 'viewer' : 'editor')
}

export const mayAct = (role: StaffRole, needed: StaffRole): boolean => STAFF_ROLES.indexOf(role) >= STAFF_ROLES.indexOf(needed)

interface Credentials { secret: string, user?: string }

/** The credential from either header form. */
export function credentialsOf (request: FastifyRequest): Credentials | undefined {
  const header = request.headers.authorization ?? ''
  if (/^Bearer /i.test(header)) return { secret: header.slice(7).trim() }
  if (/^Basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    const user = decoded.slice(0, Math.max(0, colon)).replace(new RegExp(CONTROL_CHARS.source, 'g'), '').slice(0, 64)
    return { secret: decoded.slice(colon + 1), user: user || undefined }
  }
  return undefined
}

/**
 * Sec-Fetch-Site where the browser sends it, else the Origin header against PUBLIC_URL; scripts send neither.
 * Basic credentials are ambient like a cookie: a browser sends them with a form posted, an image or script loaded or
 * a link followed from another site (OWASP Cross-Site Request Forgery Prevention Cheat Sheet, "Fetch Metadata
 * headers"; W3C Fetch Metadata Request Headers).
 */
export function isCrossSite (request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site']
  if (typeof site === 'string') return site !== 'same-origin' && site !== 'none'
  const origin = request.headers.origin
  return typeof origin === 'string' && origin !== new URL(request.server.config.publicUrl).origin
}

export interface StaffCheckOptions {
  /** A further secret this route accepts besides ADMIN_TOKEN (GET /metrics takes METRICS_TOKEN, as a viewer). */
  alsoAccept?: { secret?: string, actor: string }
  /** What is closed when no credential at all is configured, for the 503 message. */
  what?: string
}

const CROSS_SITE_MESSAGE = 'Staff pages and endpoints do not answer requests sent from another website: open the address on this site, or call it from a script.'

/**
 * Every staff route, reads included, refuses a request from another website: a page elsewhere could otherwise make
 * a logged-in browser run an export (and write its audit row) or fetch staff data. A browser that followed a link
 * gets a page linking to the same URL here; following that link is a same-origin request and works.
 */
function refuseCrossSite (request: FastifyRequest, reply: FastifyReply) {
  if (!wantsHtml(request)) return reply.code(403).send({ error: 'cross_site', message: CROSS_SITE_MESSAGE })
  const reading = request.method === 'GET' || request.method === 'HEAD'
  const here = reading ? `${request.server.config.publicUrl}${request.url}` : undefined
  return sendHtml(reply.header('cache-control', 'no-store'), 403, crossSitePage(staffPageContext(request), here))
}

export default fp(async (app) => {
  app.decorateRequest('staff', undefined)

  /** Who the credential belongs to, or undefined if it matches no configured secret. */
  function identify (given: Credentials | undefined, opts: StaffCheckOptions): StaffIdentity | undefined {
    const { adminToken } = app.config
    const extra = opts.alsoAccept?.secret
    if (given && adminToken && safeEqual(given.secret, adminToken)) return { actor: given.user ? `basic:${given.user}` : 'admin-token', role: 'owner' }
    if (given && extra && safeEqual(given.secret, extra)) return { actor: opts.alsoAccept!.actor, role: 'viewer' }
    return undefined
  }

  /** An onRequest hook: lets staff through (setting request.staff), answers everyone else 401, 403, 429 or 503. */
  function staffCheck (opts: StaffCheckOptions = {}) {
    return async function requireStaff (request: FastifyRequest, reply: FastifyReply) {
      if (!app.config.adminToken && !opts.alsoAccept?.secret) {
        return reply.code(503).send({ error: 'staff_disabled', message: `${opts.what ?? 'Staff access'} is off: set ADMIN_TOKEN (at least 32 characters) to turn it on.` })
      }
      if (isCrossSite(request)) return refuseCrossSite(request, reply)
      // Every attempt is counted before its credential is checked, and given back if it succeeds: a client that
      // failed too often is locked out, even with the right credential, however many guesses it sends at once.
      const client = clientKey(request)
      const lockedFor = await app.staffLockout.attempt(client)
      if (lockedFor > 0) throw tooManyRequests(reply, lockedFor)
      const identity = identify(credentialsOf(request), opts)
      if (identity) {
        request.staff = identity
        await app.staffLockout.succeeded(client)
        const needed = requiredRole(request)
        if (!mayAct(identity.role, needed)) {
          return reply.code(403).send({ error: 'forbidden', message: `This needs the ${needed} role or higher; you are signed in as a ${identity.role}.` })
        }
        return
      }
      return reply.code(401).header('www-authenticate', 'Basic realm="Joinlist staff", charset="UTF-8"')
        .send({ error: 'unauthorized', message: 'Staff only: send Authorization: Bearer <ADMIN_TOKEN>, or log in with ADMIN_TOKEN as the password.' })
    }
  }
  app.decorate('staffCheck', staffCheck)
}, { name: 'staff-auth', dependencies: ['rate-limits'] })

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The staff role a route needs (see requiredRole). */
    staffRole?: StaffRole
  }
  interface FastifyInstance {
    staffCheck(opts?: StaffCheckOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>
  }
  interface FastifyRequest {
    /** Set by the staff check on every staff route. */
    staff?: StaffIdentity
  }
}
