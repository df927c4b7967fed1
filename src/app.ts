// The app factory: builds the Fastify instance from a config object; src/server.ts is the only file that listens.
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import formbody from '@fastify/formbody'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { Config } from './config.js'
import type { Database } from './db/client.js'
import type { Mailer } from './mail/transport.js'
import databasePlugin from './plugins/database.js'
import mailerPlugin from './plugins/mailer.js'
import outboxPlugin from './plugins/outbox.js'
import retentionPlugin from './plugins/retention.js'
import errorsPlugin from './plugins/errors.js'
import healthRoutes from './routes/health.js'
import publicRoutes from './routes/public.js'
import tokenRoutes from './routes/tokens.js'
import adminRoutes from './routes/admin.js'
import mailPreviewRoutes from './routes/mail-preview.js'
import privacyRoutes from './routes/privacy.js'
import operationsRoutes from './routes/operations.js'
import { BODY_LIMIT } from './http.js'

export type AppConfig = Config & { tokenSecret: string }

export interface AppDeps {
  /** An open, migrated database to use instead of opening one from the config (tests). */
  database?: Database
  mailer?: Mailer
  now?: () => Date
  logger?: FastifyServerOptions['logger']
  loggerInstance?: FastifyServerOptions['loggerInstance']
}

export async function buildApp (config: AppConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.loggerInstance ? undefined : (deps.logger ?? { level: config.logLevel }),
    loggerInstance: deps.loggerInstance,
    // Only the configured proxies may set the client address (STANDARDS C19); never a hop count or `true`.
    trustProxy: config.trustProxy ?? false,
    bodyLimit: BODY_LIMIT,
    // Our own token-free request log line: the default one would log URLs that carry tokens (STANDARDS C25).
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true }
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.decorate('config', config)
  app.decorate('now', deps.now ?? (() => new Date()))

  // Only JSON and urlencoded bodies (plus multipart on the one-click route); text/plain gets 415.
  app.removeContentTypeParser('text/plain')
  await app.register(formbody, { bodyLimit: BODY_LIMIT })
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        // Only meaningful when served over https; on a plain-http PUBLIC_URL it would break form posts.
        upgradeInsecureRequests: config.publicUrl.startsWith('https:') ? [] : null
      }
    },
    strictTransportSecurity: config.publicUrl.startsWith('https:'),
    referrerPolicy: { policy: 'no-referrer' }
  })
  await app.register(rateLimit, { global: false })
  await app.register(errorsPlugin)
  // Mailer first: it checks the mail templates and DKIM key, so a broken one stops the start before any connection.
  await app.register(mailerPlugin, { mailer: deps.mailer })
  await app.register(databasePlugin, { database: deps.database })
  await app.register(outboxPlugin)
  await app.register(retentionPlugin)

  app.addHook('onResponse', async (request, reply) => {
    // Route pattern, not URL: URLs carry tokens.
    request.log.info({ method: request.method, route: request.routeOptions.url ?? '(none)', statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request')
  })

  await app.register(healthRoutes)
  await app.register(publicRoutes)
  await app.register(tokenRoutes)
  await app.register(adminRoutes)
  await app.register(mailPreviewRoutes)
  await app.register(privacyRoutes)
  await app.register(operationsRoutes)
  return app
}

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig
    now: () => Date
  }
}
