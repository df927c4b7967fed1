// POST /admin/api/imports?list=<slug>&dryRun=true|false: a CSV file (Mailchimp, listmonk, a spreadsheet) imported into
// a list, the body streamed straight into the import (never buffered whole), up to IMPORT_MAX_MB. The same engine and
// report as the CLI's `import` (src/domain/import.ts). Needs the editor role, as every change does.
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { importFile, ImportError, reportIn } from '../../domain/import.js'
import { ClientError } from '../../http.js'
import { keyed } from '../../messages/index.js'
import { requestMessages } from '../../pages/context.js'
import { errorBody, errors, staffErrors, staffSecurity } from '../../openapi.js'
import { staffWho } from './export.js'

const CSV_TYPES = new Set(['text/csv', 'application/vnd.ms-excel'])

const flag = (what: string) => z.enum(['true', 'false'], { error: keyed('console.api.fieldTrueFalse', { field: what }) }).default('false')
  .transform((v) => v === 'true')

const query = z.object({
  list: z.string({ error: 'console.api.importList' }).max(63),
  dryRun: flag('dryRun').describe('true: do everything, report it, and change nothing'),
  sendConfirmations: flag('sendConfirmations').describe('true: queue a confirmation mail for each row imported as pending'),
  perMinute: z.coerce.number({ error: keyed('console.api.fieldNumber', { field: 'perMinute' }) }).int().min(1).max(100_000).optional()
    .describe('How many of those confirmation mails go out a minute (default 60)')
})

const problem = z.object({ line: z.number(), column: z.string().optional(), reason: z.string() })
export const importReport = z.object({
  list: z.string(),
  dryRun: z.boolean(),
  file: z.object({ sha256: z.string(), bytes: z.number() }),
  columns: z.object({ used: z.record(z.string(), z.string()), ignored: z.array(z.string()) }),
  rows: z.object({
    read: z.number(),
    added: z.number(),
    updated: z.number(),
    unchanged: z.number(),
    suppressed: z.number(),
    invalid: z.number(),
    duplicates: z.number()
  }),
  withoutEvidence: z.number().describe('Rows the file called confirmed without a time of opt-in: imported as pending'),
  confirmationsQueued: z.number(),
  problems: z.array(problem).describe('The first 100 problems, by line')
}).describe('What the import did (or, for a dry run, would do)')

export default async function importRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  const maxBytes = app.config.importMaxMb * 1_000_000
  // The body is handed over as the request stream: the import reads it as it arrives, and counts its size itself.
  // Spreadsheet programs on Windows label a .csv as application/vnd.ms-excel.
  // Any other type is taken as a stream too (this plugin has only this route), so the 415 below can say what to send.
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload))

  app.post('/api/imports', {
    schema: {
      tags: ['staff', 'lists'],
      summary: 'Import a CSV file into a list',
      description: 'The body is the file (text/csv): a Mailchimp audience export (or its unsubscribed or cleaned file), ' +
        'a listmonk export or a spreadsheet with an `email` column. One transaction: all of it or nothing.',
      security: staffSecurity,
      querystring: query,
      response: {
        200: importReport,
        400: errors[400],
        404: errorBody('No such list'),
        413: errorBody('The file is over IMPORT_MAX_MB'),
        415: errorBody('The body is not text/csv'),
        ...staffErrors
      }
    }
  }, async (request) => {
    const m = requestMessages(request)
    const body = request.body as AsyncIterable<Buffer> | undefined
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
    if (!body || !CSV_TYPES.has(type)) {
      throw new ClientError(415, 'unsupported_media_type', { key: 'console.api.sendCsv' })
    }
    const declared = Number(request.headers['content-length'])
    if (declared > maxBytes) throw new ClientError(413, 'file_too_large', { key: 'console.api.fileTooLarge', vars: { mb: app.config.importMaxMb } })
    const { list, dryRun, sendConfirmations, perMinute } = request.query
    try {
      return reportIn(m, await importFile(app.lifecycle, body, { list, dryRun, sendConfirmations, confirmationsPerMinute: perMinute, maxBytes }, staffWho(request)))
    } catch (err) {
      if (err instanceof ImportError) throw new ClientError(err.status, err.code, { key: 'console.api.nothingImported', vars: { problem: err.said ?? err.message } })
      throw err
    }
  })
}
