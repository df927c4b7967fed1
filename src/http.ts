// HTTP helpers shared by the routes: content negotiation and the JSON error shape.
import type { FastifyReply, FastifyRequest } from 'fastify'

/** A browser (or anything asking for HTML first) gets pages; scripts get JSON. */
export function wantsHtml (request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? ''
  const htmlAt = accept.indexOf('text/html')
  const jsonAt = accept.indexOf('application/json')
  if (jsonAt >= 0 && (htmlAt < 0 || jsonAt < htmlAt)) return false
  return htmlAt >= 0
}

export function isFormPost (request: FastifyRequest): boolean {
  return (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
}

/** Every request body is small: a sign-up or a one-click unsubscribe (issue #3: 413 above this). */
export const BODY_LIMIT = 16 * 1024

export interface ErrorBody { error: string, message: string, field?: string }

export function sendHtml (reply: FastifyReply, status: number, page: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(page)
}
