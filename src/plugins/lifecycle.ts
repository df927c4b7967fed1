// Domain wiring: what the domain functions need (database, clock, limits, consent text version, sender domain,
// secrets), built once from the config, and the sign-up batch writer. Routes and the CLI pass these to src/domain/*.
import fp from 'fastify-plugin'
import type { AppConfig } from '../app.js'
import type { Config } from '../config.js'
import type { Database } from '../db/client.js'
import { ensureConsentText } from '../domain/consent.js'
import { Lists } from '../domain/lists.js'
import type { PrivacyDeps } from '../domain/privacy.js'
import type { Secrets } from '../domain/secrets.js'
import { SignupWriter } from '../domain/signup-writer.js'
import type { LifecycleDeps } from '../domain/subscribers.js'
import { checkSuppressionKeys } from '../domain/suppression.js'
import { UNNAMED_LIST } from '../mail/messages.js'
import { backfillUnsubscribeSecrets } from '../domain/upgrade.js'

export const secretsOf = (config: Pick<AppConfig, 'tokenSecret' | 'tokenSecretPrevious'>): Secrets =>
  ({ current: config.tokenSecret, previous: config.tokenSecretPrevious })

/** What a fresh start must do to the data before serving (idempotent; several instances may run it at once). */
/**
 * The lists, as the server and the command line both open them: a list without a name of its own takes LIST_NAME
 * (or the default name), and WELCOME_EMAIL is the default welcome setting.
 */
export const openLists = (database: Database, config: Pick<Config, 'listName' | 'welcomeEmail'>, consentTextVersion: number,
  now: () => Date): Lists =>
  new Lists(database, { listName: config.listName ?? UNNAMED_LIST, consentTextVersion, welcomeEmail: config.welcomeEmail }, now)

export async function prepareData (database: Database, secrets: Secrets, warn: (data: object, message: string) => void): Promise<void> {
  await backfillUnsubscribeSecrets(database, secrets)
  await checkSuppressionKeys(database, secrets, (message, n) => warn({ entries: n }, message))
}

export default fp(async (app) => {
  const { config, database } = app
  const secrets = secretsOf(config)
  const warn = (data: object, message: string) => app.log.warn(data, message)
  await prepareData(database, secrets, warn)
  // Each distinct consent text (one per language unless CONSENT_TEXT alone is set) becomes an immutable version once;
  // a sign-up points to the one its page showed. English first, so a single-language history keeps its numbers.
  const consentTextVersions: Record<string, number> = {}
  for (const [lang, text] of Object.entries(config.consentTexts).sort(([a], [b]) => a === 'en' ? -1 : b === 'en' ? 1 : a.localeCompare(b))) {
    consentTextVersions[lang] = await ensureConsentText(database, text)
  }
  const consentTextVersion = consentTextVersions.en
  const lists = openLists(database, config, consentTextVersion, app.now)
  const lifecycle: LifecycleDeps = {
    database,
    lists,
    now: app.now,
    messageIdDomain: app.mailSettings.fromDomain,
    confirmTtlHours: config.confirmTtlHours,
    confirmCooldownMinutes: config.confirmCooldownMinutes,
    confirmDailyCap: config.confirmDailyCap,
    confirmDomainHourlyCap: config.confirmDomainHourlyCap,
    signupQueueMax: config.signupQueueMax,
    welcomeEmail: config.welcomeEmail,
    listName: config.listName ?? UNNAMED_LIST,
    consentTextVersion,
    consentTextVersions,
    secrets,
    warn
  }
  app.decorate('lifecycle', lifecycle)
  app.decorate('lists', lists)
  app.decorate('privacy', { database, now: app.now, secrets })
  app.decorate('signups', new SignupWriter(lifecycle))
}, { name: 'lifecycle', dependencies: ['database', 'mailer'] })

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: LifecycleDeps
    lists: Lists
    privacy: PrivacyDeps
    signups: SignupWriter
  }
}
