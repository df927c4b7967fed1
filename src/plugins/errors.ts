// One error handler: validation → 400 {error, message, field}; other 4xx pass through with a message that says
// what to fix; 5xx become a generic message, logged with the request id, unless raised to be shown (a busy
// resource); a lost database is a 503. Browsers get the same as a page.
import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { errorPage } from '../pages/subscriber.js'
import { pageContext } from '../pages/context.js'
import { ListError } from '../domain/lists.js'
import { ClientError, sendHtml, wantsHtml, type ErrorBody } from '../http.js'
import { driverError, isDatabaseUnavailable } from '../db/errors.js'

const CLIENT_MESSAGES: Record<number, [string, string]> = {
  400: ['bad_request', 'The request could not be read. Send JSON or a form body.'],
  404: ['not_found', 'There is nothing at this address.'],
  405: ['method_not_allowed', 'This address does not accept that method.'],
  413: ['body_too_large', 'The request body is too large: send at most 16 KiB.'],
  415: ['unsupported_media_type', 'Send the body as application/json or application/x-www-form-urlencoded.'],
  429: ['rate_limited', 'Too many requests. Wait a moment and try again.']
}

export default fp(async (app) => {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issue = err.validation[0]
      const field = issue.instancePath.replace(/^\//, '').split('/')[0] || undefined
      return sendError(request, reply, 400, { error: 'invalid_field', message: issue.message ?? 'Check the value of this field.', field })
    }
    if (err instanceof ListError) return sendError(request, reply, err.status, { error: err.code, message: err.message }, true)
    if (err instanceof ClientError) {
      if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds))
      // Its own words: what was refused and what to do (a 503 says why and when to come back).
      return sendError(request, reply, err.statusCode, { error: err.error, message: err.message }, true)
    }
    const status = err.statusCode ?? 500
    if (status >= 400 && status < 500) {
      const [code, fallback] = Object.hasOwn(CLIENT_MESSAGES, status) ? CLIENT_MESSAGES[status] : ['bad_request', err.message]
      // Our 429s say how long to wait (src/plugins/rate-limits.ts).
      const message = status === 400 && err.code?.startsWith('FST_ERR_CTP')
        ? `${fallback} (${err.message})`
        : status === 429 && err.message ? err.message : fallback
      return sendError(request, reply, status, { error: code, message })
    }
    if (isDatabaseUnavailable(err)) {
      request.log.warn({ code: (driverError(err) as { code?: string }).code }, 'database unavailable')
      return sendError(request, reply, 503, { error: 'unavailable', message: 'The service is briefly unavailable. Try again in a minute.' })
    }
    request.log.error({ err: driverError(err) }, 'request failed')
    return sendError(request, reply, 500, { error: 'internal', message: 'Something went wrong on our side. Try again later.' })
  })

  app.setNotFoundHandler((request, reply) => {
    return sendError(request, reply, 404, { error: 'not_found', message: CLIENT_MESSAGES[404][1] })
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
