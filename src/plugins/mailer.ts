// Mailer plugin: SMTP when SMTP_URL is set, else the local mailbox in DATA_DIR/mail (embedded mode); and the mail
// settings (templates, DKIM key), checked here at start so a broken template or key stops the process at once.
import { join } from 'node:path'
import fp from 'fastify-plugin'
import { dkimAligned, dkimDnsRecord } from '../mail/dkim.js'
import { mailSettings, type MailSettings } from '../mail/messages.js'
import { mailboxMailer, smtpMailer, type Mailer } from '../mail/transport.js'

export default fp<{ mailer?: Mailer }>(async (app, opts) => {
  const { config } = app
  const settings = mailSettings(config)
  if (!config.listName) {
    app.log.warn('LIST_NAME is not set: pages and mails call the list "Mailing list" (in Welsh "Rhestr bostio"); set LIST_NAME to its real name')
  }
  if (settings.dkim) {
    const { domainName, keySelector, privateKey } = settings.dkim
    // The public half, so an operator can check DNS against what is actually used (a public key is no secret).
    app.log.info({ dkim: `${keySelector}._domainkey.${domainName}`, txt: dkimDnsRecord(privateKey) }, 'DKIM signing on')
    if (!dkimAligned(settings.fromDomain, domainName)) {
      app.log.warn({ dkimDomain: domainName, fromDomain: settings.fromDomain },
        'DKIM_DOMAIN is not aligned with the MAIL_FROM domain: the signature will not help DMARC pass')
    }
  }
  const mailer = opts.mailer ?? (config.smtpUrl
    ? smtpMailer(config.smtpUrl, config.smtpPoolSize, { requireTls: config.smtpRequireTls })
    : mailboxMailer(join(config.dataDir, 'mail')))
  app.decorate('mailer', mailer)
  app.decorate('mailSettings', settings)
  app.addHook('onClose', async () => mailer.close())
}, { name: 'mailer' })

declare module 'fastify' {
  interface FastifyInstance {
    mailer: Mailer
    mailSettings: MailSettings
  }
}
