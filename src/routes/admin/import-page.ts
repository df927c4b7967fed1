// The console's import page: GET shows the form, POST takes the upload (multipart, streamed: the file part goes
// straight into the import, never held whole) and shows the report. The same engine as POST /admin/api/imports.
import { Busboy, type BusboyHeaders } from '@fastify/busboy'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'
import { importFile, ImportError, reportIn } from '../../domain/import.js'
import { sendHtml } from '../../http.js'
import { inLanguage } from '../../messages/index.js'
import { requestMessages } from '../../pages/context.js'
import { page, staffErrors, staffSecurity } from '../../openapi.js'
import { consoleContext } from '../../pages/console/frame.js'
import { importPage } from '../../pages/console/import.js'
import { staffWho } from './export.js'
import { csrfFor } from './subscribers.js'

interface Upload { _csrf?: string, list?: string, dryRun?: string, file?: Readable }

export default async function importPageRoutes (app: FastifyInstance) {
  // The form's fields come before its file (their order in the page): they are read, then the body is handed over
  // with the file still streaming, so the CSRF check (which reads `_csrf` from the body) runs before any row is read.
  app.addContentTypeParser('multipart/form-data', (request, payload, done) => {
    const fields: Upload = {}
    let handed = false
    const bb = new Busboy({ headers: request.headers as BusboyHeaders, limits: { files: 1, fields: 5, fieldSize: 1000 } })
    bb.on('field', (name: string, value: string) => { if (name === '_csrf' || name === 'list' || name === 'dryRun') fields[name] = value })
    bb.on('file', (_name: string, file: Readable) => {
      if (handed) { file.resume(); return }
      handed = true
      done(null, { ...fields, file })
    })
    bb.on('finish', () => { if (!handed) { handed = true; done(null, fields) } })
    bb.on('error', (err: Error) => { if (!handed) { handed = true; done(err) } })
    payload.pipe(bb)
  })

  const show = async (request: FastifyRequest, reply: FastifyReply, status: number, outcome?: Parameters<typeof importPage>[2]) =>
    sendHtml(reply.header('cache-control', 'no-store'), status, importPage(consoleContext(request, csrfFor(request, reply)), await app.lists.active(), outcome))

  app.get('/import', {
    config: { staffRole: 'editor' },
    schema: { tags: ['staff', 'lists'], summary: 'The import page: upload a CSV file into a list', security: staffSecurity, response: { 200: page('The form'), ...staffErrors } }
  }, async (request, reply) => await show(request, reply, 200))

  app.post('/import', {
    schema: {
      tags: ['staff', 'lists'],
      summary: 'Import an uploaded CSV file (form, multipart)',
      security: staffSecurity,
      response: { 200: page('The report'), 400: page('The form again, with what is wrong'), 404: page('No such list'), 413: page('Too large'), ...staffErrors }
    }
  }, async (request, reply) => {
    const upload = (request.body ?? {}) as Upload
    if (!upload.file) return await show(request, reply, 400, { error: requestMessages(request).t('console.api.chooseFile') })
    try {
      const report = await importFile(app.lifecycle, upload.file, { list: upload.list ?? '', dryRun: upload.dryRun === 'true', maxBytes: app.config.importMaxMb * 1_000_000 }, staffWho(request))
      return await show(request, reply, 200, { report: reportIn(requestMessages(request), report) })
    } catch (err) {
      if (!(err instanceof ImportError)) throw err
      upload.file.resume()
      return await show(request, reply, err.status, { error: inLanguage(requestMessages(request), { key: 'console.api.nothingImported', vars: { problem: err.said ?? err.message } }) })
    }
  })
}
