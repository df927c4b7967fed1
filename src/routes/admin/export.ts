// GET /admin/subscribers.csv: the staff CSV export, recorded in the consent ledger.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { EXPORT_STATUSES, sinceOutOfRange } from '../../domain/export.js'
import { auditedExport, type Actor } from '../../domain/ledger.js'
import { errors, staffErrors, staffSecurity } from '../../openapi.js'

const exportQuery = (now: () => Date) => z.object({
  status: z.enum(EXPORT_STATUSES, { error: `status must be one of ${EXPORT_STATUSES.join(', ')}.` }).default('confirmed'),
  // One message for the union: zod's own for a failed union is a bare "Invalid input".
  since: z.union([z.iso.datetime({ offset: true }), z.iso.date()],
    { error: 'since must be an ISO 8601 date-time or date, such as 2026-01-31T00:00:00Z or 2026-01-31.' })
    .transform((value, ctx) => {
      const since = new Date(value)
      const problem = sinceOutOfRange(since, now())
      if (problem) { ctx.addIssue({ code: 'custom', message: problem }); return z.NEVER }
      return since
    }).optional()
})

/** Who did it, for the consent ledger: the staff member's label (never the secret), the channel, IP and browser. */
export const staffWho = (request: FastifyRequest): Actor => ({
  actor: request.staff?.actor ?? 'admin-token',
  method: 'staff-api',
  ip: request.ip,
  userAgent: request.headers['user-agent']?.slice(0, 500)
})

export default async function exportRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()

  app.get('/subscribers.csv', {
    schema: {
      tags: ['staff'],
      summary: 'Export subscribers as CSV',
      description: "RFC 4180; cells a spreadsheet would evaluate are prefixed with ' (OWASP CSV Injection). Streams any list size.",
      security: staffSecurity,
      querystring: exportQuery(app.now),
      response: { 200: { description: 'The CSV file (Content-Disposition: attachment)', content: { 'text/csv': { schema: z.string() } } }, 400: errors[400], ...staffErrors }
    }
  }, async (request, reply) => {
    // Every export is in the consent ledger: who, when, filters, and the row count.
    const copy = await auditedExport(app.database, app.config.publicUrl, app.config.tokenSecret, request.query, staffWho(request), app.now)
    copy.rows.catch((err) => request.log.warn({ err }, 'could not record the export row count'))
    // Stop the COPY if the client goes away mid-download, so the database does not keep writing.
    reply.raw.once('close', () => { if (!copy.stream.readableEnded) copy.cancel() })
    copy.stream.once('error', (err) => request.log.warn({ err }, 'export stream failed'))
    const day = app.now().toISOString().slice(0, 10)
    // Streamed as it comes (the documented schema says "string": the typed reply does not know streams).
    return (reply as FastifyReply)
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="subscribers-${day}.csv"`)
      .header('cache-control', 'no-store')
      .send(copy.stream)
  })
}
