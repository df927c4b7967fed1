// Database plugin: opens PostgreSQL or the embedded database, applies migrations, closes it last.
import fp from 'fastify-plugin'
import { migrate, openDatabase, type Database } from '../db/client.js'
import { SignupWriter, type LifecycleDeps } from '../domain/subscribers.js'
import { ensureConsentText, hmacPads } from '../domain/consent.js'

export default fp<{ database?: Database }>(async (app, opts) => {
  const { config } = app
  let database = opts.database
  if (!database) {
    const openOpts = { databaseUrl: config.databaseUrl, dataDir: config.dataDir, queryTimeoutMs: config.databaseQueryTimeoutMs }
    database = await openDatabase(openOpts)
    try {
      await migrate(openOpts, database)
    } catch (err) {
      await database.close()
      throw err
    }
    const owned = database
    app.addHook('onClose', async () => { await owned.close() })
  }
  app.decorate('database', database)
  // Each distinct CONSENT_TEXT becomes an immutable version once; sign-ups point to it (STANDARDS E27).
  const consentTextVersion = await ensureConsentText(database, config.consentText)
  const fromAddress = /<([^>]+)>/.exec(config.mailFrom)?.[1] ?? config.mailFrom
  const lifecycle: LifecycleDeps = {
    database,
    now: app.now,
    messageIdDomain: fromAddress.split('@')[1] ?? new URL(config.publicUrl).hostname,
    confirmTtlHours: config.confirmTtlHours,
    confirmCooldownMinutes: config.confirmCooldownMinutes,
    confirmDailyCap: config.confirmDailyCap,
    welcomeEmail: config.welcomeEmail,
    listName: config.listName,
    consentTextVersion,
    suppressionPads: hmacPads(config.tokenSecret)
  }
  app.decorate('lifecycle', lifecycle)
  app.decorate('signups', new SignupWriter(lifecycle))
}, { name: 'database' })

declare module 'fastify' {
  interface FastifyInstance {
    database: Database
    lifecycle: LifecycleDeps
    signups: SignupWriter
  }
}
