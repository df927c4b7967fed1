// Everything under /admin is for staff: one authentication hook (src/plugins/staff-auth.ts) covers every route
// registered here, HTML and JSON alike. Sign-in itself is in ./session.ts, registered beside this in src/app.ts.
import type { FastifyInstance } from 'fastify'
import dashboardRoutes from './dashboard.js'
import exportRoutes from './export.js'
import privacyRoutes from './privacy.js'
import outboxRoutes from './outbox.js'
import mailPreviewRoutes from './mail-preview.js'
import listRoutes from './lists.js'
import webhookPageRoutes from './webhook-pages.js'
import webhookRoutes from './webhooks.js'
import subscriberRoutes from './subscribers.js'
import operationsRoutes from './operations.js'
import staffRoutes from './staff.js'

export default async function adminRoutes (app: FastifyInstance) {
  app.addHook('onRequest', app.staffCheck())
  await app.register(dashboardRoutes)
  await app.register(exportRoutes)
  await app.register(privacyRoutes)
  await app.register(outboxRoutes)
  await app.register(mailPreviewRoutes)
  await app.register(listRoutes)
  await app.register(webhookRoutes)
  await app.register(webhookPageRoutes)
  await app.register(subscriberRoutes)
  await app.register(operationsRoutes)
  await app.register(staffRoutes)
}
