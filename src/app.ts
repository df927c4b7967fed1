// The app factory: builds the Fastify instance from a config object; src/server.ts is the only file that listens.
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import accepts from '@fastify/accepts'
import formbody from '@fastify/formbody'
import swagger from '@fastify/swagger'
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { Config } from './config.js'
import type { Database } from './db/client.js'
import type { Mailer } from './mail/transport.js'
import { BODY_LIMIT } from './http.js'
import { OPENAPI_INFO } from './openapi.js'
import databasePlugin from './plugins/database.js'
import lifecyclePlugin from './plugins/lifecycle.js'
import mailerPlugin from './plugins/mailer.js'
import outboxPlugin from './plugins/outbox.js'
import retentionPlugin from './plugins/retention.js'
import webhooksPlugin from './plugins/webhooks.js'
import errorsPlugin from './plugins/errors.js'
import languagePlugin from './plugins/language.js'
import securityHeaders from './plugins/security-headers.js'
import rateLimitsPlugin from './plugins/rate-limits.js'
import staffAuthPlugin from './plugins/staff-auth.js'
import healthRoutes from './routes/health.js'
import publicRoutes from './routes/public/index.js'
import tokenRoutes from './routes/tokens.js'
import adminRoutes from './routes/admin/index.js'
import sessionRoutes from './routes/admin/session.js'
import metricsRoutes from './routes/metrics.js'
import docsRoutes from './routes/docs.js'

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
    // Only the configured proxies may set the client address; never a hop count or `true`, which any client could
    // spoof with X-Forwarded-For.
    trustProxy: config.trustProxy ?? false,
    bodyLimit: BODY_LIMIT,
    // Our own token-free request log line (below): the default one would log URLs that carry tokens.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // The embedded database's first start (create + migrate) took over fastify's default 10 s on a busy 2-core
    // machine in the start bench, and the process gave up: allow it a minute.
    pluginTimeout: 60_000,
    // A token in a path may be up to 200 characters (TOKEN_PATTERN); the router's default limit is 100.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 }
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.decorate('config', config)
  app.decorate('now', deps.now ?? (() => new Date()))

  // Only JSON and urlencoded bodies (plus multipart on the one-click route); text/plain gets 415.
  app.removeContentTypeParser('text/plain')
  await app.register(formbody, { bodyLimit: BODY_LIMIT })
  await app.register(accepts)
  await app.register(securityHeaders, {
    contentSecurityPolicy: {
      // Exactly these directives: helmet's defaults would add script-src 'self' and font sources, and no page runs
      // a script.
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'none'"],
        styleSrc: ["'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', ...(config.logoUrl ? [new URL(config.logoUrl).origin] : [])],
        // Browsers apply form-action to the redirect after a post too (the optional `redirect` field).
        formAction: ["'self'", ...config.allowedRedirectOrigins],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        // Only meaningful when served over https; on a plain-http PUBLIC_URL it would break form posts.
        upgradeInsecureRequests: config.publicUrl.startsWith('https:') ? [] : null
      }
    },
    strictTransportSecurity: config.publicUrl.startsWith('https:'),
    referrerPolicy: { policy: 'no-referrer' }
  })
  await app.register(swagger, { ...OPENAPI_INFO, transform: jsonSchemaTransform })
  await app.register(errorsPlugin)
  await app.register(languagePlugin)
  await app.register(rateLimitsPlugin)
  await app.register(staffAuthPlugin)
  // Mailer first: it checks the mail templates and DKIM key, so a broken one stops the start before any connection.
  await app.register(mailerPlugin, { mailer: deps.mailer })
  await app.register(databasePlugin, { database: deps.database })
  await app.register(lifecyclePlugin)
  await app.register(outboxPlugin)
  await app.register(retentionPlugin)
  await app.register(webhooksPlugin)

  app.addHook('onResponse', async (request, reply) => {
    // Route pattern, not URL: URLs carry tokens.
    request.log.info({ method: request.method, route: request.routeOptions.url ?? '(none)', statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request')
  })

  await app.register(healthRoutes)
  await app.register(publicRoutes)
  await app.register(tokenRoutes)
  await app.register(sessionRoutes, { prefix: '/admin' })
  await app.register(adminRoutes, { prefix: '/admin' })
  await app.register(metricsRoutes)
  await app.register(docsRoutes)
  return app
}

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig
    now: () => Date
  }
}
