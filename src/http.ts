// HTTP helpers shared by the routes: content negotiation and the JSON error shape.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { SaidError, type Said } from './messages/index.js'

/** A browser (or anything asking for HTML over JSON) gets pages; scripts, and requests that say nothing, get JSON. */
export function wantsHtml (request: FastifyRequest): boolean {
  return request.accepts().type(['application/json', 'text/html']) === 'text/html'
}

export function isFormPost (request: FastifyRequest): boolean {
  return (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
}

/** Every request body is small: a sign-up or a one-click unsubscribe (413 above this). */
export const BODY_LIMIT = 16 * 1024

export interface ErrorBody { error: string, message: string, field?: string }

/**
 * A refusal the client can act on: its status, a stable code and a message saying what to do; a Said (catalogue key)
 * is answered in the request's language.
 */
export class ClientError extends SaidError {
  constructor (readonly statusCode: number, readonly error: string, message: string | Said, readonly retryAfterSeconds?: number) {
    super(message)
  }
}

export function sendHtml (reply: FastifyReply, status: number, page: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(page)
}
