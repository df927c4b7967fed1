// Staff endpoints: the CSV export. Auth: `Authorization: Bearer <ADMIN_TOKEN>`, or HTTP Basic with ADMIN_TOKEN as
// the password (a browser's login prompt). Without ADMIN_TOKEN configured, staff endpoints are closed (503).
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { EXPORT_STATUSES } from '../domain/export.js'
import { auditedExport } from '../domain/ledger.js'
import { tooManyRequests } from '../security/rate-limits.js'

const exportQuery = z.object({
  status: z.enum(EXPORT_STATUSES, { error: `status must be one of ${EXPORT_STATUSES.join(', ')}.` }).default('confirmed'),
  // One message for the union: zod's own for a failed union is a bare "Invalid input".
  since: z.union([z.iso.datetime({ offset: true }), z.iso.date()],
    { error: 'since must be an ISO 8601 date-time or date, such as 2026-01-31T00:00:00Z or 2026-01-31.' })
    .transform((v) => new Date(v)).optional()
})

const digest = (s: string) => createHash('sha256').update(s).digest()

/** The staff credential from either header form, compared in constant time (hashing evens the lengths). */
export function isStaff (request: FastifyRequest, adminToken: string): boolean {
  const header = request.headers.authorization ?? ''
  let given: string | undefined
  if (/^Bearer /i.test(header)) given = header.slice(7).trim()
  else if (/^Basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
    given = decoded.slice(decoded.indexOf(':') + 1)
  }
  return given !== undefined && timingSafeEqual(digest(given), digest(adminToken))
}

/** onRequest hook for staff routes: 503 when staff access is off, 401 (with a login prompt) without the token. */
export async function requireStaff (request: FastifyRequest, reply: FastifyReply) {
  const token = request.server.config.adminToken
  if (!token) {
    return reply.code(503).send({ error: 'staff_disabled', message: 'Staff access is off: set ADMIN_TOKEN (at least 32 characters) to turn it on.' })
  }
  // A client that failed too often is locked out before its credential is even checked (issue #3).
  const lockedFor = await request.server.staffLockout.lockedFor(request)
  if (lockedFor > 0) throw tooManyRequests(reply, lockedFor)
  if (!isStaff(request, token)) {
    await request.server.staffLockout.failed(request)
    return reply.code(401).header('www-authenticate', 'Basic realm="Joinlist staff", charset="UTF-8"')
      .send({ error: 'unauthorized', message: 'Staff only: send Authorization: Bearer <ADMIN_TOKEN>, or log in with ADMIN_TOKEN as the password.' })
  }
}

/**
 * Who did it, for the consent ledger (issue #7): the Basic user name a person logged in with, else the label of the
 * shared credential. Never the secret itself.
 */
export function staffActor (request: FastifyRequest): string {
  const header = request.headers.authorization ?? ''
  if (/^Basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
    // eslint-disable-next-line no-control-regex
    const user = decoded.slice(0, Math.max(0, decoded.indexOf(':'))).replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 64)
    if (user) return `basic:${user}`
  }
  return 'admin-token'
}

export default async function adminRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()

  app.get('/admin/subscribers.csv', { onRequest: requireStaff, schema: { querystring: exportQuery } }, async (request, reply) => {
    const filter = request.query
    // Every export is in the consent ledger: who (the credential's label), when, filters, and the row count (issue #7).
    const copy = await auditedExport(app.database, app.config.publicUrl, app.config.tokenSecret, filter, {
      actor: staffActor(request), method: 'staff-api', ip: request.ip, userAgent: request.headers['user-agent']?.slice(0, 500)
    }, app.now)
    copy.rows.catch((err) => request.log.warn({ err }, 'could not record the export row count'))
    // Stop the COPY if the client goes away mid-download, so the database does not keep writing.
    reply.raw.once('close', () => { if (!copy.stream.readableEnded) copy.cancel() })
    copy.stream.once('error', (err) => request.log.warn({ err }, 'export stream failed'))
    const day = app.now().toISOString().slice(0, 10)
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="subscribers-${day}.csv"`)
      .header('cache-control', 'no-store')
      .send(copy.stream)
  })
}
