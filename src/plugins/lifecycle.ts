// Domain wiring: what the domain functions need (database, clock, limits, consent text version, sender domain), built
// once from the config, and the sign-up batch writer. Routes and the CLI pass these to src/domain/*.
import fp from 'fastify-plugin'
import { SignupWriter, type LifecycleDeps } from '../domain/subscribers.js'
import { ensureConsentText, hmacPads } from '../domain/consent.js'
import type { PrivacyDeps } from '../domain/privacy.js'

export default fp(async (app) => {
  const { config, database } = app
  // Each distinct CONSENT_TEXT becomes an immutable version once; sign-ups point to it.
  const consentTextVersion = await ensureConsentText(database, config.consentText)
  const suppressionPads = hmacPads(config.tokenSecret)
  const lifecycle: LifecycleDeps = {
    database,
    now: app.now,
    messageIdDomain: app.mailSettings.fromDomain,
    confirmTtlHours: config.confirmTtlHours,
    confirmCooldownMinutes: config.confirmCooldownMinutes,
    confirmDailyCap: config.confirmDailyCap,
    welcomeEmail: config.welcomeEmail,
    listName: config.listName,
    consentTextVersion,
    suppressionPads
  }
  app.decorate('lifecycle', lifecycle)
  app.decorate('privacy', { database, now: app.now, tokenSecret: config.tokenSecret, suppressionPads })
  app.decorate('signups', new SignupWriter(lifecycle))
}, { name: 'lifecycle', dependencies: ['database', 'mailer'] })

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: LifecycleDeps
    privacy: PrivacyDeps
    signups: SignupWriter
  }
}
