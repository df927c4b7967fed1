// Retention plugin: runs the purge (src/domain/retention.ts) inside the server every PURGE_INTERVAL_MINUTES;
// with several instances the advisory lock lets one of them do it. PURGE_INTERVAL_MINUTES=0 turns it off.
import fp from 'fastify-plugin'
import { purge, type PurgeResult } from '../domain/retention.js'
import { purgeWebhookLog } from '../webhooks/endpoints.js'

export interface Retention {
  /** One purge now (also what the timer calls). */
  runOnce(): Promise<PurgeResult>
}

export default fp(async (app) => {
  const { config } = app
  const log = app.log.child({ component: 'retention' })
  let timer: NodeJS.Timeout | undefined
  let running: Promise<unknown> | undefined
  let stopped = false

  const retention: Retention = {
    async runOnce () {
      const result = await purge(app.database, app.now(), config.pendingRetentionDays)
      const purged = await purgeWebhookLog(app.database, app.now(), config.webhookLogDays)
      if (purged.deliveries > 0 || purged.events > 0) log.info({ ...purged, days: config.webhookLogDays }, 'purged the webhook log')
      if (!result.skipped && (result.deleted > 0 || result.tokensCleared > 0)) {
        log.info({ deleted: result.deleted, tokensCleared: result.tokensCleared, retentionDays: config.pendingRetentionDays },
          'purged unconfirmed sign-ups')
      }
      return result
    }
  }
  app.decorate('retention', retention)

  const tick = () => {
    running = retention.runOnce()
      .catch((err) => log.error({ err }, 'purge failed; trying again at the next interval'))
      .finally(() => {
        running = undefined
        if (!stopped) timer = setTimeout(tick, config.purgeIntervalMinutes * 60_000).unref()
      })
  }
  if (config.purgeIntervalMinutes > 0) {
    // The first run right after start, so a server restarted often still purges.
    app.addHook('onReady', async () => { timer = setTimeout(tick, 0).unref() })
  }
  app.addHook('preClose', async () => {
    stopped = true
    clearTimeout(timer)
    await running
  })
}, { name: 'retention', dependencies: ['database'] })

declare module 'fastify' {
  interface FastifyInstance {
    retention: Retention
  }
}
