// The staff dashboard (GET /admin): the same staff auth as the export; a browser gets the Basic login prompt.
import type { FastifyInstance } from 'fastify'
import { dashboardStats } from '../domain/stats.js'
import { dashboardPage } from '../pages/admin.js'
import { pageContext } from '../pages/context.js'
import { sendHtml } from '../http.js'
import { requireStaff } from './staff-auth.js'

export default async function dashboardRoutes (app: FastifyInstance) {
  app.get('/admin', { onRequest: requireStaff }, async (request, reply) => {
    const stats = await dashboardStats(app.database, app.now())
    reply.header('cache-control', 'no-store')
    return sendHtml(reply, 200, dashboardPage(pageContext(request), stats))
  })
}
