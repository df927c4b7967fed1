// One error handler: validation → 400 {error, message, field}; other 4xx pass through with a message that says
// what to fix; 5xx become a generic message, logged with the request id, unless raised to be shown (a busy
// resource); a lost database is a 503. Browsers get the same as a page.
import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { errorPage } from '../pages/subscriber.js'
import { pageContext, requestMessages } from '../pages/context.js'
import { duration, inLanguage, messagesIn, type MessageKey } from '../messages/index.js'
import { ListError } from '../domain/lists.js'
import { ClientError, sendHtml, wantsHtml, type ErrorBody } from '../http.js'
import { driverError, isDatabaseUnavailable } from '../db/errors.js'
import { RATE_LIMITED } from './rate-limits.js'

const CLIENT_MESSAGES: Record<number, [string, MessageKey]> = {
  400: ['bad_request', 'api.badRequest'],
  404: ['not_found', 'api.notFound'],
  405: ['method_not_allowed', 'api.methodNotAllowed'],
  413: ['body_too_large', 'api.bodyTooLarge'],
  415: ['unsupported_media_type', 'api.unsupportedMediaType'],
  429: ['rate_limited', 'api.rateLimited']
}

export default fp(async (app) => {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issue = err.validation[0]
      const field = issue.instancePath.replace(/^\//, '').split('/')[0] || undefined
      const m = requestMessages(request)
      const message = issue.message ? inLanguage(m, issue.message) : m.t('api.checkField')
      return sendError(request, reply, 400, { error: 'invalid_field', message, field })
    }
    if (err instanceof ListError) return sendError(request, reply, err.status, { error: err.code, message: inLanguage(requestMessages(request), err.said ?? err.message) }, true)
    if (err instanceof ClientError) {
      if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds))
      // Its own words: what was refused and what to do (a 503 says why and when to come back).
      return sendError(request, reply, err.statusCode, { error: err.error, message: inLanguage(requestMessages(request), err.said ?? err.message) }, true)
    }
    const status = err.statusCode ?? 500
    if (status >= 400 && status < 500) {
      const m = requestMessages(request)
      const [code, key] = Object.hasOwn(CLIENT_MESSAGES, status) ? CLIENT_MESSAGES[status] : ['bad_request', undefined]
      const fallback = key ? m.t(key) : err.message
      // Our 429s say how long to wait (Retry-After, set by @fastify/rate-limit or tooManyRequests()).
      const wait = Number(reply.getHeader('retry-after'))
      const message = status === 400 && err.code?.startsWith('FST_ERR_CTP')
        ? `${fallback} (${err.message})`
        : status === 429 ? (err.code === RATE_LIMITED && wait > 0 ? m.t('api.rateLimited', { wait: duration(m, wait) }) : err.message || fallback) : fallback
      return sendError(request, reply, status, { error: code, message })
    }
    if (isDatabaseUnavailable(err)) {
      request.log.warn({ code: (driverError(err) as { code?: string }).code }, 'database unavailable')
      return sendError(request, reply, 503, { error: 'unavailable', message: requestMessages(request).t('api.unavailable') })
    }
    request.log.error({ err: driverError(err) }, 'request failed')
    return sendError(request, reply, 500, { error: 'internal', message: safeMessages(request).t('api.internal') })
  })

  app.setNotFoundHandler((request, reply) => {
    return sendError(request, reply, 404, { error: 'not_found', message: requestMessages(request).t('api.notFound') })
  })

  function sendError (request: FastifyRequest, reply: FastifyReply, status: number, body: ErrorBody, specific = false) {
    const page = wantsHtml(request) ? errorPageFor(request, status, body.message, specific) : undefined
    if (page) return sendHtml(reply, status, page)
    return reply.code(status).type('application/json; charset=utf-8').send(body)
  }

  /**
   * The error page, or undefined if it cannot be rendered. This handler must never throw: Fastify's fallback
   * handler would then answer with the internal error message (OWASP Error Handling Cheat Sheet).
   */
  function errorPageFor (request: FastifyRequest, status: number, message: string, specific: boolean): string | undefined {
    try {
      return errorPage(pageContext(request), status, message, specific)
    } catch (err) {
      request.log.error({ err }, 'the error page could not be rendered; answered with JSON')
      return undefined
    }
  }
}, { name: 'errors' })

/** The visitor's messages, or English if even that fails: the handler of last resort must not throw. */
function safeMessages (request: FastifyRequest) {
  try { return requestMessages(request) } catch { return messagesIn('en') }
}
