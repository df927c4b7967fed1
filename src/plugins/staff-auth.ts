// Staff authentication, in one place for every staff route (HTML and JSON): a staff session cookie from the login
// form (src/routes/admin/session.ts), an API key (`Authorization: Bearer jl_…`), or ADMIN_TOKEN, the break-glass
// owner credential for scripts (`Bearer <ADMIN_TOKEN>`, or HTTP Basic with it as the password: RFC 7617). With no
// ADMIN_TOKEN and no staff account the staff routes are closed (503). Registered once as an onRequest hook for
// everything under /admin (src/routes/admin/index.ts), and on GET /metrics; every header credential goes through the
// same lockout, and every change made with a session cookie needs a CSRF token.
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import cookie from '@fastify/cookie'
import csrf from '@fastify/csrf-protection'
import { createHmac } from 'node:crypto'
import { safeEqual } from '../crypto.js'
import { apiKeyStaff, API_KEY_PREFIX } from '../domain/api-keys.js'
import { anyStaff, STAFF_ROLES, type StaffRole } from '../domain/staff.js'
import { sessionStaff, type SessionLimits } from '../domain/staff-sessions.js'
import { ClientError, sendHtml, wantsHtml } from '../http.js'
import { crossSitePage } from '../pages/admin.js'
import { requestMessages, staffPageContext } from '../pages/context.js'
import { CONTROL_CHARS } from '../text.js'
import { clientKey, tooManyRequests } from './rate-limits.js'
import type { MessageKey } from '../messages/index.js'

/**
 * What a member of staff may do: a viewer sees and exports; an editor also changes subscribers, lists and mail; an
 * owner also manages staff, keys and webhooks. ADMIN_TOKEN is an owner.
 */
export { STAFF_ROLES, type StaffRole }

/** Who made a staff request, as the consent ledger records it: a label, never the secret. */
export interface StaffIdentity {
  /**
   * `staff:<address>` for a personal account, `key:<name>` for an API key, `basic:<user name>` when ADMIN_TOKEN was
   * given with a user name, else the shared credential's label.
   */
  actor: string
  role: StaffRole
  /** A personal account signed in with a session cookie: its id, and the stored hash of the session id. */
  staffId?: number
  sessionHash?: string
}

/** The session cookie: `__Host-` where the site is https (Secure, Path=/, no Domain: RFC 6265bis §4.1.3.2). */
export const sessionCookieName = (publicUrl: string): string => publicUrl.startsWith('https:') ? '__Host-jl_staff' : 'jl_staff'
const csrfCookieName = (publicUrl: string): string => publicUrl.startsWith('https:') ? '__Host-jl_csrf' : 'jl_csrf'

export const sessionLimits = (config: { staffSessionIdleMinutes: number, staffSessionHours: number }): SessionLimits =>
  ({ idleMinutes: config.staffSessionIdleMinutes, absoluteHours: config.staffSessionHours })

/** What the login and set-password forms' CSRF tokens are bound to: no session yet. */
export const SIGNED_OUT = 'signed-out'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

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
  what?: MessageKey
}

const CROSS_SITE_MESSAGE: MessageKey = 'console.api.crossSite'

/**
 * Every staff route, reads included, refuses a request from another website: a page elsewhere could otherwise make
 * a logged-in browser run an export (and write its audit row) or fetch staff data. A browser that followed a link
 * gets a page linking to the same URL here; following that link is a same-origin request and works.
 */
function refuseCrossSite (request: FastifyRequest, reply: FastifyReply) {
  if (!wantsHtml(request)) return reply.code(403).send({ error: 'cross_site', message: requestMessages(request).t(CROSS_SITE_MESSAGE) })
  const reading = request.method === 'GET' || request.method === 'HEAD'
  const here = reading ? `${request.server.config.publicUrl}${request.url}` : undefined
  return sendHtml(reply.header('cache-control', 'no-store'), 403, crossSitePage(staffPageContext(request), here))
}

export default fp(async (app) => {
  app.decorateRequest('staff', undefined)
  const secure = app.config.publicUrl.startsWith('https:')
  await app.register(cookie)
  // The CSRF secret lives in its own cookie and each token is bound to the session it was made for (the plugin's
  // userInfo, an HMAC with a key derived from TOKEN_SECRET): OWASP CSRF Prevention Cheat Sheet, "Signed Double-Submit
  // Cookie". Requests with a header credential need no token: a browser never adds those on its own.
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: csrfCookieName(app.config.publicUrl),
    cookieOpts: { path: '/', sameSite: 'lax', httpOnly: true, secure },
    getUserInfo: (request: FastifyRequest) => request.staff?.sessionHash ?? SIGNED_OUT,
    csrfOpts: { hmacKey: createHmac('sha256', app.config.tokenSecret).update('staff console csrf').digest() }
  })

  // Once an account exists it stays known to this process (disabling every account is not a way to close access).
  let accountsExist = false
  const staffAccessOpen = async (opts: StaffCheckOptions): Promise<boolean> => {
    if (app.config.adminToken || opts.alsoAccept?.secret || accountsExist) return true
    accountsExist = await anyStaff(app.database)
    return accountsExist
  }

  /** Who the header credential belongs to, or undefined if it matches no configured secret or live API key. */
  async function identify (given: Credentials | undefined, opts: StaffCheckOptions): Promise<StaffIdentity | undefined> {
    if (!given) return undefined
    const { adminToken } = app.config
    const extra = opts.alsoAccept?.secret
    if (given.secret.startsWith(API_KEY_PREFIX) && !given.user) {
      const key = await apiKeyStaff(app.database, given.secret, app.now())
      if (key) return { actor: `key:${key.name}`, role: key.role }
    }
    if (adminToken && safeEqual(given.secret, adminToken)) return { actor: given.user ? `basic:${given.user}` : 'admin-token', role: 'owner' }
    if (extra && safeEqual(given.secret, extra)) return { actor: opts.alsoAccept!.actor, role: 'viewer' }
    return undefined
  }

  /** The member of staff the session cookie belongs to, if it is live. */
  async function fromSession (request: FastifyRequest): Promise<StaffIdentity | undefined> {
    const id = request.cookies[sessionCookieName(app.config.publicUrl)]
    if (!id || id.length > 100) return undefined
    const found = await sessionStaff(app.database, id, app.now(), sessionLimits(app.config))
    return found && { actor: `staff:${found.email}`, role: found.role, staffId: found.staffId, sessionHash: found.sessionHash }
  }

  /** The plugin's token check, turned into a clear 403 (its own errors carry no advice). */
  function checkCsrf (request: FastifyRequest) {
    let passed = false
    const capture = { send: () => capture, unsignCookie: (v: string) => ({ value: v }) }
    app.csrfProtection(request, capture as unknown as FastifyReply, () => { passed = true })
    if (!passed) {
      throw new ClientError(403, 'csrf', { key: 'console.api.csrf' })
    }
  }

  /** An onRequest hook: lets staff through (setting request.staff), answers everyone else 401, 403, 429 or 503. */
  function staffCheck (opts: StaffCheckOptions = {}) {
    return async function requireStaff (request: FastifyRequest, reply: FastifyReply) {
      if (!(await staffAccessOpen(opts))) {
        return reply.code(503).send({ error: 'staff_disabled', message: requestMessages(request).t('console.api.staffDisabled', { what: requestMessages(request).t(opts.what ?? 'console.api.staffAccess') }) })
      }
      if (isCrossSite(request)) return refuseCrossSite(request, reply)
      const given = credentialsOf(request)
      let identity: StaffIdentity | undefined
      if (given) {
        // Every attempt is counted before its credential is checked, and given back if it succeeds: a client that
        // failed too often is locked out, even with the right credential, however many guesses it sends at once.
        const client = clientKey(request)
        const lockedFor = await app.staffLockout.attempt(client)
        if (lockedFor > 0) throw tooManyRequests(reply, lockedFor)
        identity = await identify(given, opts)
        if (identity) await app.staffLockout.succeeded(client)
      } else {
        // A session id is 256 random bits: a wrong one is an expired session, not a guess, and is not counted.
        identity = await fromSession(request)
        // A browser goes to the login form once staff accounts exist; before that, the break-glass ADMIN_TOKEN is
        // the only credential, and the browser's own login prompt (below) asks for it.
        if (!identity && wantsHtml(request) && (request.method === 'GET' || request.method === 'HEAD') &&
          (accountsExist || (accountsExist = await anyStaff(app.database)))) {
          return reply.code(303).header('cache-control', 'no-store').redirect(`/admin/login?next=${encodeURIComponent(request.url)}`)
        }
      }
      if (identity) {
        request.staff = identity
        const needed = requiredRole(request)
        if (!mayAct(identity.role, needed)) {
          throw new ClientError(403, 'forbidden', { key: 'console.api.forbidden', vars: { needed: { key: `console.roles.${needed}` }, role: { key: `console.roles.${identity.role}` } } })
        }
        return
      }
      return reply.code(401).header('www-authenticate', 'Basic realm="Joinlist staff", charset="UTF-8"')
        .send({ error: 'unauthorized', message: requestMessages(request).t('console.api.unauthorized') })
    }
  }
  app.decorate('staffCheck', staffCheck)

  // The token is in the form body, which is parsed after onRequest: checked here, before validation, for every
  // change made with a session cookie on any route the staff check let through.
  app.addHook('preValidation', async (request) => {
    if (request.staff?.sessionHash && !SAFE_METHODS.has(request.method)) checkCsrf(request)
  })
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
