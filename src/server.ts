// The process: load config, build the app, listen, and shut down gracefully on SIGTERM/SIGINT: new requests get 503,
// requests in flight finish, the outbox worker hands back what it has not started, and the database closes last.
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, loadDotEnv, resolveTokenSecret } from './config.js'

async function main () {
  let config
  try {
    loadDotEnv()
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
  const app = await buildApp({ ...config, tokenSecret: resolveTokenSecret(config) })
  // A second signal, or 30 s without finishing, exits at once (with code 1).
  closeWithGrace({ delay: 30_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down')
    await app.close()
  })
  await app.listen({ port: config.port, host: config.host })
  const mode = `${config.databaseUrl ? 'PostgreSQL' : `embedded database in ${config.dataDir}`}, ${config.smtpUrl ? 'SMTP' : `local mailbox in ${config.dataDir}/mail`}`
  app.log.info(`Joinlist is running at ${config.publicUrl} (${mode})`)
}

main().catch((err) => {
  process.stderr.write(`Joinlist failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
