// GET and HEAD /admin/subscribers.csv: the staff CSV export, recorded in the consent ledger; at most
// EXPORT_CONCURRENCY run at once, each on a database connection of its own.
import { pipeline } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { EXPORT_STATUSES, sinceOutOfRange } from '../../domain/export.js'
import { auditedExport, type Actor } from '../../domain/ledger.js'
import { excelCsv } from '../../domain/excel-csv.js'
import { ClientError } from '../../http.js'
import { keyed } from '../../messages/index.js'
import { errorBody, errors, staffErrors, staffSecurity } from '../../openapi.js'

/** What a refused export is told to wait: a list of a million subscribers exports in a few seconds. */
const RETRY_AFTER_SECONDS = 10

const exportQuery = (now: () => Date) => z.object({
  status: z.enum(EXPORT_STATUSES, { error: keyed('console.api.fieldOneOf', { field: 'status', values: EXPORT_STATUSES.join(', ') }) }).default('confirmed'),
  // One message for the union: zod's own for a failed union is a bare "Invalid input".
  since: z.union([z.iso.datetime({ offset: true }), z.iso.date()],
    { error: 'console.api.exportSince' })
    .transform((value, ctx) => {
      const since = new Date(value)
      const problem = sinceOutOfRange(since, now())
      if (problem) { ctx.addIssue({ code: 'custom', message: keyed('console.api.sinceOutOfRange', { now: now().toISOString() }) }); return z.NEVER }
      return since
    }).optional(),
  // excel: a UTF-8 BOM and CRLF line ends, so Excel on Windows shows accented names right (Siân Llŷr).
  format: z.enum(['rfc4180', 'excel'], { error: 'console.api.exportFormat' }).default('rfc4180'),
  // Repeatable (?list=a&list=b): a row per subscription on these lists.
  list: z.union([z.string().max(63), z.array(z.string().max(63)).max(50)], { error: 'console.api.exportList' })
    .optional().transform((v) => v === undefined ? undefined : Array.isArray(v) ? v : [v])
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
  const slots = exportSlots(app.config.exportConcurrency)
  const idleTimeoutMs = app.config.exportIdleTimeoutSeconds * 1000

  app.route({
    method: ['GET', 'HEAD'],
    url: '/subscribers.csv',
    schema: {
      tags: ['staff'],
      summary: 'Export subscribers as CSV',
      description: "RFC 4180; cells a spreadsheet would evaluate are prefixed with ' (OWASP CSV Injection). Streams any list size. `format=excel` adds a UTF-8 byte order mark and CRLF line ends for Excel on Windows. HEAD answers the same headers and runs no export.",
      security: staffSecurity,
      querystring: exportQuery(app.now),
      response: {
        200: { description: 'The CSV file (Content-Disposition: attachment)', content: { 'text/csv': { schema: z.string() } } },
        400: errors[400],
        ...staffErrors,
        503: errorBody('EXPORT_CONCURRENCY exports are running already ({error: "exports_busy"}, Retry-After), the database is unreachable, or ADMIN_TOKEN is not set.')
      }
    },
    handler: async (request, reply) => {
      if (slots.full()) throw exportsBusy(slots.running())
      // HEAD gets the headers a GET would, and nothing else happens: no COPY, no ledger row (RFC 9110 §9.3.2).
      const excel = request.query.format === 'excel'
      if (request.method === 'HEAD') return csvHeaders(reply as FastifyReply, app.now(), excel).send()
      const release = slots.take()
      let copy
      try {
        // Every export is in the consent ledger: who, when, filters, and the row count.
        const { status, since, list } = request.query
        copy = await auditedExport(app.database, app.config.publicUrl, { status, since, lists: list }, staffWho(request), app.now)
      } catch (err) {
        release()
        throw err
      }
      copy.released.then(release, release)
      copy.rows.catch((err) => request.log.warn({ err }, 'could not record the export row count'))
      copy.stream.once('error', (err) => request.log.warn({ err }, 'export stream failed'))
      // A download that takes nothing for this long (paused in the browser, or a client that stopped reading without
      // closing) is cut: it would hold its slot and its database connection, and delay a shutdown, for ever.
      reply.raw.setTimeout(idleTimeoutMs, () => {
        request.log.warn({ idleSeconds: idleTimeoutMs / 1000 }, 'export cut: its client took no data')
        reply.raw.destroy()
      })
      // Streamed as it comes (the documented schema says "string": the typed reply does not know streams).
      // The Excel variant goes through a transform; pipeline destroys the COPY stream with it if the client leaves.
      const body = excel ? pipeline(copy.stream, excelCsv(), () => {}) : copy.stream
      return csvHeaders(reply as FastifyReply, app.now(), excel).send(body)
    }
  })
}

function csvHeaders (reply: FastifyReply, now: Date, excel = false): FastifyReply {
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="subscribers-${now.toISOString().slice(0, 10)}${excel ? '-excel' : ''}.csv"`)
    .header('cache-control', 'no-store')
}

/**
 * Exports running in this process, at most `limit`: each holds a database connection of its own, and on the embedded
 * database the whole list in memory, for as long as its download lasts.
 */
function exportSlots (limit: number) {
  let running = 0
  return {
    full: () => running >= limit,
    running: () => running,
    take (): () => void {
      running++
      return () => { running-- }
    }
  }
}

/** A 503 that says why and when to come back, with Retry-After (RFC 9110 §10.2.3). */
function exportsBusy (running: number): ClientError {
  return new ClientError(503, 'exports_busy', { key: 'console.api.exportsBusy', vars: { count: running, seconds: RETRY_AFTER_SECONDS } }, RETRY_AFTER_SECONDS)
}
