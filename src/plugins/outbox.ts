// Outbox plugin: runs the worker in this process (WORKER=false turns it off); it stops before the database closes.
import fp from 'fastify-plugin'
import { OutboxWorker } from '../outbox/worker.js'

export default fp(async (app) => {
  const { config } = app
  const worker = new OutboxWorker(app.database, app.mailer, app.log.child({ component: 'outbox' }), {
    publicUrl: config.publicUrl,
    mail: app.mailSettings,
    confirmTtlHours: config.confirmTtlHours,
    pollMs: config.workerPollMs,
    // Deep enough that the SMTP pool never waits for the next claim (the mail bench: ×4 kept it at 0.7× the raw pool).
    batchSize: config.smtpPoolSize * 20,
    // Three per connection: one being sent and two already queued in the pool, so a connection that finishes never
    // waits for the worker (the mail bench: ×3 measured 0.69× against ×2's 0.63–0.66× on one machine, same run).
    concurrency: config.smtpPoolSize * 3,
    leaseSeconds: config.outboxLeaseSeconds,
    retryBaseMs: config.outboxRetryBaseMs,
    retryMaxMs: config.outboxRetryMaxMs,
    maxAttempts: config.outboxMaxAttempts,
    lists: app.lists
  }, app.now)
  app.decorate('outbox', worker)
  if (config.worker) app.addHook('onReady', async () => worker.start())
  // preClose: in-flight sends finish (or stay leased and are reclaimed) before the pool and database close.
  app.addHook('preClose', async () => worker.stop())
}, { name: 'outbox', dependencies: ['database', 'mailer', 'lifecycle'] })

declare module 'fastify' {
  interface FastifyInstance {
    outbox: OutboxWorker
  }
}
