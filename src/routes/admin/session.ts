// Staff sign-in, outside the staff-auth hook: the login form (failures count toward the staff lockout), sign-out,
// "sign out everywhere", and the one-time set-password links. The session cookie is HttpOnly, SameSite=Lax,
// Secure and `__Host-` when PUBLIC_URL is https (OWASP Session Management Cheat Sheet, "Cookies").
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { recordAudit } from '../../domain/audit.js'
import { loginAccount, passwordLinkAccount, setPasswordWithLink } from '../../domain/staff.js'
import { endAllSessions, endSession, startSession } from '../../domain/staff-sessions.js'
import { TOKEN_PATTERN } from '../../domain/tokens.js'
import { ClientError, sendHtml } from '../../http.js'
import { inLanguage } from '../../messages/index.js'
import { errors, page } from '../../openapi.js'
import { consolePageContext } from '../../pages/console/frame.js'
import { linkExpiredPage, loginPage, setPasswordPage } from '../../pages/console/login.js'
import { clientKey, tooManyRequests } from '../../plugins/rate-limits.js'
import { isCrossSite, sessionCookieName, sessionLimits, SIGNED_OUT } from '../../plugins/staff-auth.js'
import { hashPassword, passwordProblem, verifyPassword } from '../../security/passwords.js'

/** Where to go after signing in: a path on this site under /admin, never another site (OWASP Unvalidated Redirects). */
const safeNext = (next: string | undefined): string => next && /^\/admin(\/[^\\]*)?(\?.*)?$/.test(next) && !next.startsWith('//') ? next : '/admin'

const loginBody = z.object({
  email: z.string().max(320).default(''),
  password: z.string().max(1024).default(''),
  next: z.string().max(2000).optional(),
  _csrf: z.string().max(200).optional()
})

export default async function sessionRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  const cookieName = sessionCookieName(app.config.publicUrl)
  const secure = app.config.publicUrl.startsWith('https:')
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure }

  // Login CSRF too (OWASP CSRF Prevention Cheat Sheet, "Login CSRF"): the cross-site check, and a token.
  app.addHook('onRequest', async (request) => {
    if (isCrossSite(request)) throw new ClientError(403, 'cross_site', { key: 'console.api.loginCrossSite' })
  })
  const checkCsrf = (request: FastifyRequest) => new Promise<void>((resolve, reject) => {
    const capture = { send: () => reject(new ClientError(403, 'csrf', { key: 'console.api.loginExpired' })) }
    app.csrfProtection(request, capture as unknown as FastifyReply, () => resolve())
  })

  app.get('/login', {
    schema: { tags: ['staff'], summary: 'The staff sign-in form', querystring: z.object({ next: z.string().max(2000).optional(), done: z.string().max(20).optional() }), response: { 200: page('The form') } }
  }, async (request, reply) => {
    const ctx = consolePageContext(request)
    const notice = request.query.done === 'password' ? ctx.m.t('console.login.passwordSet') : request.query.done === 'out' ? ctx.m.t('console.login.signedOut') : undefined
    return sendHtml(reply.header('cache-control', 'no-store'), 200, loginPage(ctx, { csrf: reply.generateCsrf({ userInfo: SIGNED_OUT }), next: safeNext(request.query.next), notice }))
  })

  app.post('/login', {
    schema: { tags: ['staff'], summary: 'Sign in: a session cookie, then 303 to the page asked for', body: loginBody, response: { 303: z.null(), 401: page('The form again, with the problem'), 403: errors[403], 429: errors[429] } }
  }, async (request, reply) => {
    await checkCsrf(request)
    const { email, password } = request.body
    const next = safeNext(request.body.next)
    // Counted before the check, given back on success: the same lockout as every other staff credential.
    const client = clientKey(request)
    const lockedFor = await app.staffLockout.attempt(client)
    if (lockedFor > 0) throw tooManyRequests(reply, lockedFor)
    const account = await loginAccount(app.database, email)
    const ok = await verifyPassword(account?.passwordHash, password)
    if (!account || !ok) {
      request.log.info('staff login failed')
      const ctx = consolePageContext(request)
      return sendHtml(reply.header('cache-control', 'no-store'), 401, loginPage(ctx, {
        csrf: reply.generateCsrf({ userInfo: SIGNED_OUT }), next, email, error: ctx.m.t('console.login.failed')
      }))
    }
    await app.staffLockout.succeeded(client)
    const id = await startSession(app.database, account.id, app.now(), sessionLimits(app.config), { ip: request.ip, userAgent: request.headers['user-agent'] })
    await recordAudit(app.database, { actor: `staff:${account.email}`, action: 'login', ip: request.ip }, app.now())
    // A new session id at every login (no fixation: OWASP Session Management Cheat Sheet, "Renew the Session ID").
    reply.setCookie(cookieName, id, { ...cookieOptions, maxAge: app.config.staffSessionHours * 3600 })
    return reply.code(303).redirect(next)
  })

  // Sign-out needs the session and its CSRF token, so it goes through the staff check like any other change.
  await app.register(async (signedIn) => {
    signedIn.addHook('onRequest', app.staffCheck())
    signedIn.post('/logout', { schema: { tags: ['staff'], summary: 'Sign out this browser', response: { 303: z.null(), ...{ 401: errors[401], 403: errors[403] } } }, config: { staffRole: 'viewer' } }, async (request, reply) => {
      if (request.staff?.sessionHash) await endSession(app.database, request.staff.sessionHash)
      reply.clearCookie(cookieName, cookieOptions)
      return reply.code(303).redirect('/admin/login?done=out')
    })
    signedIn.post('/logout-everywhere', { schema: { tags: ['staff'], summary: 'Sign out every session of this account', response: { 303: z.null(), 401: errors[401], 403: errors[403] } }, config: { staffRole: 'viewer' } }, async (request, reply) => {
      if (request.staff?.staffId !== undefined) {
        const ended = await endAllSessions(app.database, request.staff.staffId)
        await recordAudit(app.database, { actor: request.staff.actor, action: 'sign-out-everywhere', ip: request.ip, details: { sessions: ended } }, app.now())
      }
      reply.clearCookie(cookieName, cookieOptions)
      return reply.code(303).redirect('/admin/login?done=out')
    })
  })

  const tokenParams = z.object({ token: z.string().regex(TOKEN_PATTERN, 'console.api.notPasswordLink') })

  app.get('/password/:token', {
    schema: { tags: ['staff'], summary: 'The set-password form of a one-time link', params: tokenParams, response: { 200: page('The form'), 400: errors[400], 404: page('The link does not work') } }
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer')
    const account = await passwordLinkAccount(app.database, request.params.token, app.now())
    if (!account) return sendHtml(reply, 404, linkExpiredPage(consolePageContext(request)))
    return sendHtml(reply, 200, setPasswordPage(consolePageContext(request), { csrf: reply.generateCsrf({ userInfo: SIGNED_OUT }), email: account.email, action: `/admin/password/${request.params.token}` }))
  })

  app.post('/password/:token', {
    schema: { tags: ['staff'], summary: 'Set the password; every session of the account ends', params: tokenParams, body: z.object({ password: z.string().max(1024).default(''), _csrf: z.string().max(200).optional() }), response: { 303: z.null(), 400: page('The form again, with the problem'), 403: errors[403], 404: page('The link does not work') } }
  }, async (request, reply) => {
    await checkCsrf(request)
    reply.header('cache-control', 'no-store')
    const account = await passwordLinkAccount(app.database, request.params.token, app.now())
    if (!account) return sendHtml(reply, 404, linkExpiredPage(consolePageContext(request)))
    const problem = passwordProblem(request.body.password, account.email)
    if (problem) {
      const ctx = consolePageContext(request)
      return sendHtml(reply, 400, setPasswordPage(ctx, { csrf: reply.generateCsrf({ userInfo: SIGNED_OUT }), email: account.email, action: `/admin/password/${request.params.token}`, error: inLanguage(ctx.m, problem) }))
    }
    const set = await setPasswordWithLink(app.database, request.params.token, await hashPassword(request.body.password), app.now())
    if (!set) return sendHtml(reply, 404, linkExpiredPage(consolePageContext(request)))
    await recordAudit(app.database, { actor: `staff:${account.email}`, action: 'set-password', ip: request.ip }, app.now())
    return reply.code(303).redirect('/admin/login?done=password')
  })
}
