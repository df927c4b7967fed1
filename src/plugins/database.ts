// Database plugin: opens PostgreSQL or the embedded database, applies migrations, and closes it last.
import fp from 'fastify-plugin'
import { migrate, openDatabase, type Database } from '../db/client.js'

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
}, { name: 'database' })

declare module 'fastify' {
  interface FastifyInstance {
    database: Database
  }
}
