// The visitor's side: the sign-up form and POST /subscribe, and the embeddable form. CORS is registered here, for
// these routes only: a route that other sites' JavaScript may call says so in its own `config.cors`.
import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'
import signupRoutes from './signup.js'
import embedRoutes from './embed.js'

export default async function publicRoutes (app: FastifyInstance) {
  // Closed unless a route opens it; no cookies are involved, so credentials stay off.
  await app.register(cors, { origin: false, methods: ['GET', 'POST'], credentials: false, maxAge: 600 })
  await app.register(signupRoutes)
  await app.register(embedRoutes)
}

/** A route's `config.cors`: the origins in ALLOWED_ORIGINS may call it from their pages' JavaScript. */
export const crossOrigin = (allowedOrigins: string[]) => ({ cors: { origin: allowedOrigins } })
