// Mailer plugin: SMTP when SMTP_URL is set, else the local mailbox in DATA_DIR/mail (embedded mode).
import { join } from 'node:path'
import fp from 'fastify-plugin'
import { mailboxMailer, smtpMailer, type Mailer } from '../mail/transport.js'

export default fp<{ mailer?: Mailer }>(async (app, opts) => {
  const { config } = app
  const mailer = opts.mailer ?? (config.smtpUrl
    ? smtpMailer(config.smtpUrl, config.smtpPoolSize)
    : mailboxMailer(join(config.dataDir, 'mail')))
  app.decorate('mailer', mailer)
  app.addHook('onClose', async () => mailer.close())
}, { name: 'mailer' })

declare module 'fastify' {
  interface FastifyInstance {
    mailer: Mailer
  }
}
