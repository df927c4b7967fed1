// Staff privacy endpoints: consent text versions, subject access (GDPR Art. 15) and erasure (Art. 17) by address.
// Every use of an address's data is itself written to the consent ledger.
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { getConsentText } from '../../domain/consent.js'
import { parseEmail } from '../../domain/email.js'
import { erase, subjectAccess } from '../../domain/privacy.js'
import { errorBody, errors, staffErrors, staffSecurity } from '../../openapi.js'
import { staffWho } from './export.js'
import { keyed } from '../../messages/index.js'
import { requestMessages } from '../../pages/context.js'

const emailParams = z.object({
  email: z.string().max(1000).transform((v, ctx) => {
    const r = parseEmail(v)
    if (!r.ok) { ctx.addIssue({ code: 'custom', message: `validation.${r.key}` }); return z.NEVER }
    return r.normalized
  })
})

const row = z.record(z.string(), z.unknown())
const consentTextBody = z.object({ version: z.number(), text: z.string(), sha256: z.string(), createdAt: z.string() })
const accessBody = z.object({
  email: z.string(),
  subscriber: row.nullable(),
  subscriptions: z.array(row),
  consentTexts: z.array(consentTextBody),
  events: z.array(row),
  outbox: z.array(row),
  suppressed: z.boolean()
})
const erasedBody = z.object({ status: z.literal('erased'), held: z.boolean(), suppressed: z.literal(true) })

export default async function privacyRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  app.get('/consent-texts/:version', {
    schema: {
      tags: ['staff', 'privacy'],
      summary: 'One consent text version',
      security: staffSecurity,
      params: z.object({ version: z.coerce.number({ error: keyed('console.api.fieldNumber', { field: 'version' }) }).int().min(1).max(2 ** 31 - 1) }),
      response: { 200: consentTextBody.describe('{version, text, sha256, createdAt}'), 400: errors[400], 404: errorBody('No such version'), ...staffErrors }
    }
  }, async (request, reply) => {
    const text = await getConsentText(app.database, request.params.version)
    if (!text) return reply.code(404).send({ error: 'not_found', message: requestMessages(request).t('console.api.noConsentVersion', { version: request.params.version }) })
    return text
  })

  // Subject access (Art. 15): everything held about the address, with its ledger.
  app.get('/subscribers/:email', {
    schema: {
      tags: ['staff', 'privacy'],
      summary: 'Subject access: everything held about an address',
      security: staffSecurity,
      params: emailParams,
      response: { 200: accessBody.describe('The subscriber, its consent ledger, consent texts and mail, as JSON'), 400: errors[400], 404: errorBody('No data is held about this address'), ...staffErrors }
    }
  }, async (request, reply) => {
    const access = await subjectAccess(app.privacy, request.params.email, staffWho(request))
    reply.header('cache-control', 'no-store')
    if (!access.subscriber && !access.suppressed) {
      return reply.code(404).send({ error: 'not_found', message: requestMessages(request).t('console.api.nothingHeld') })
    }
    return access
  })

  // Erasure (Art. 17): idempotent; the address stays suppressed (a hash only).
  app.delete('/subscribers/:email', {
    schema: {
      tags: ['staff', 'privacy'],
      summary: 'Erasure: delete everything held about an address',
      description: 'Idempotent; a suppression hash and an anonymised consent ledger remain.',
      security: staffSecurity,
      params: emailParams,
      response: { 200: erasedBody.describe('Erased (or nothing was held); the address stays suppressed'), 400: errors[400], ...staffErrors }
    }
  }, async (request) => {
    const erased = await erase(app.privacy, { emailNormalized: request.params.email }, staffWho(request))
    request.log.info({ erased }, 'erasure by staff')
    return { status: 'erased' as const, held: erased, suppressed: true as const }
  })
}
