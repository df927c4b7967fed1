// The process: load config, build the app, listen, and shut down gracefully on SIGTERM/SIGINT (STANDARDS F35).
import { buildApp } from './app.js'
import { ConfigError, loadConfig, resolveTokenSecret } from './config.js'

async function main () {
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
  const app = await buildApp({ ...config, tokenSecret: resolveTokenSecret(config) })
  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    const timer = setTimeout(() => { app.log.error('shutdown timed out'); process.exit(1) }, 30_000)
    timer.unref()
    await app.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => { shutdown('SIGTERM').catch(() => process.exit(1)) })
  process.on('SIGINT', () => { shutdown('SIGINT').catch(() => process.exit(1)) })
  await app.listen({ port: config.port, host: config.host })
  const mode = `${config.databaseUrl ? 'PostgreSQL' : `embedded database in ${config.dataDir}`}, ${config.smtpUrl ? 'SMTP' : `local mailbox in ${config.dataDir}/mail`}`
  app.log.info(`Joinlist is running at ${config.publicUrl} (${mode})`)
}

main().catch((err) => {
  process.stderr.write(`Joinlist failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
