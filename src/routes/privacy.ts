// Staff privacy endpoints (issue #7): consent text versions, subject access and erasure by address. Staff auth as
// for the export; every use of an address's data is itself written to the consent ledger.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { getConsentText } from '../domain/consent.js'
import { parseEmail } from '../domain/email.js'
import type { Actor } from '../domain/ledger.js'
import { erase, subjectAccess, type PrivacyDeps } from '../domain/privacy.js'
import { requireStaff, staffActor } from './admin.js'

const emailParams = z.object({
  email: z.string().max(1000).transform((v, ctx) => {
    const r = parseEmail(v)
    if (!r.ok) { ctx.addIssue({ code: 'custom', message: r.message }); return z.NEVER }
    return r.normalized
  })
})

const errorBody = z.object({ error: z.string(), message: z.string() })
const row = z.record(z.string(), z.unknown())
const consentTextBody = z.object({ version: z.number(), text: z.string(), sha256: z.string(), createdAt: z.string() })
const accessBody = z.object({
  email: z.string(),
  subscriber: row.nullable(),
  consentTexts: z.array(consentTextBody),
  events: z.array(row),
  outbox: z.array(row),
  suppressed: z.boolean()
})
const erasedBody = z.object({ status: z.literal('erased'), held: z.boolean(), suppressed: z.literal(true) })

export const staffWho = (request: FastifyRequest): Actor => ({
  actor: staffActor(request),
  method: 'staff-api',
  ip: request.ip,
  userAgent: request.headers['user-agent']?.slice(0, 500)
})

export default async function privacyRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  const deps = (): PrivacyDeps => ({
    database: app.database, now: app.now, tokenSecret: app.config.tokenSecret, suppressionPads: app.lifecycle.suppressionPads
  })

  app.get('/admin/consent-texts/:version', {
    onRequest: requireStaff,
    schema: {
      params: z.object({ version: z.coerce.number({ error: 'version must be a number.' }).int().min(1).max(2 ** 31 - 1) }),
      response: { 200: consentTextBody, 404: errorBody }
    }
  }, async (request, reply) => {
    const text = await getConsentText(app.database, request.params.version)
    if (!text) return reply.code(404).send({ error: 'not_found', message: `There is no consent text version ${request.params.version}.` })
    return text
  })

  // Subject access (Art. 15): everything held about the address, with its ledger.
  app.get('/admin/subscribers/:email', { onRequest: requireStaff, schema: { params: emailParams, response: { 200: accessBody, 404: errorBody } } }, async (request, reply) => {
    const access = await subjectAccess(deps(), request.params.email, staffWho(request))
    reply.header('cache-control', 'no-store')
    if (!access.subscriber && !access.suppressed) {
      return reply.code(404).send({ error: 'not_found', message: 'No data is held about this address.' })
    }
    return access
  })

  // Erasure (Art. 17): idempotent; the address stays suppressed (a hash only).
  app.delete('/admin/subscribers/:email', { onRequest: requireStaff, schema: { params: emailParams, response: { 200: erasedBody } } }, async (request) => {
    const erased = await erase(deps(), { emailNormalized: request.params.email }, staffWho(request))
    request.log.info({ erased }, 'erasure by staff')
    return { status: 'erased' as const, held: erased, suppressed: true as const }
  })
}
