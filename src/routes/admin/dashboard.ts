// The staff dashboard (GET /admin); a browser gets the Basic login prompt.
import type { FastifyInstance } from 'fastify'
import { dashboardStats } from '../../domain/stats.js'
import { dashboardPage } from '../../pages/admin.js'
import { staffPageContext } from '../../pages/context.js'
import { sendHtml } from '../../http.js'
import { consoleContext, consoleNav } from '../../pages/console/frame.js'
import { csrfFor } from './subscribers.js'
import { page, staffErrors, staffSecurity } from '../../openapi.js'

export default async function dashboardRoutes (app: FastifyInstance) {
  app.get('/', {
    schema: {
      tags: ['staff'],
      summary: 'The staff dashboard',
      description: 'Counts by status, sign-ups per day (SVG and a table), confirmation rate, outbox backlog and dead mail, CSV downloads.',
      security: staffSecurity,
      response: { 200: page('The dashboard'), ...staffErrors }
    }
  }, async (request, reply) => {
    const stats = await dashboardStats(app.database, app.now())
    reply.header('cache-control', 'no-store')
    return sendHtml(reply, 200, dashboardPage(staffPageContext(request), stats, consoleNav(consoleContext(request, csrfFor(request, reply)))))
  })
}
