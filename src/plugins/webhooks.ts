// Webhooks plugin: the delivery worker in this process (WORKER=false turns it off, with the mail outbox's), on its
// own HTTP agent, so a slow or dead target never holds up sign-ups or the mail; it stops before the database closes.
import fp from 'fastify-plugin'
import { targetAgent } from '../webhooks/target.js'
import { WebhookWorker } from '../webhooks/worker.js'

export default fp(async (app) => {
  const { config } = app
  let agent: ReturnType<typeof targetAgent> | undefined
  const agentOnce = () => (agent ??= targetAgent({
    allowPrivate: config.webhookAllowPrivateTargets,
    timeoutMs: config.webhookTimeoutMs,
    connections: config.webhookConcurrency
  }))
  const worker = new WebhookWorker(app.database, agentOnce, app.log.child({ component: 'webhooks' }), {
    pollMs: config.workerPollMs,
    concurrency: config.webhookConcurrency,
    leaseSeconds: config.webhookLeaseSeconds,
    timeoutMs: config.webhookTimeoutMs,
    retryBaseMs: config.webhookRetryBaseMs,
    retryMaxMs: config.webhookRetryMaxMs,
    maxAttempts: config.webhookMaxAttempts
  }, app.now)
  app.decorate('webhooks', worker)
  if (config.worker) app.addHook('onReady', async () => worker.start())
  app.addHook('preClose', async () => worker.stop())
  app.addHook('onClose', async () => { if (agent) await (await agent).close() })
}, { name: 'webhooks', dependencies: ['database'] })

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: WebhookWorker
  }
}
