// The app factory: builds the Fastify instance from a config object; src/server.ts is the only file that listens.
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import formbody from '@fastify/formbody'
import cors from '@fastify/cors'
import swagger from '@fastify/swagger'
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { Config } from './config.js'
import type { Database } from './db/client.js'
import type { Mailer } from './mail/transport.js'
import databasePlugin from './plugins/database.js'
import mailerPlugin from './plugins/mailer.js'
import outboxPlugin from './plugins/outbox.js'
import retentionPlugin from './plugins/retention.js'
import errorsPlugin from './plugins/errors.js'
import securityHeaders from './plugins/security-headers.js'
import rateLimitsPlugin from './security/rate-limits.js'
import healthRoutes from './routes/health.js'
import publicRoutes from './routes/public.js'
import tokenRoutes from './routes/tokens.js'
import adminRoutes from './routes/admin.js'
import mailPreviewRoutes from './routes/mail-preview.js'
import privacyRoutes from './routes/privacy.js'
import dashboardRoutes from './routes/dashboard.js'
import embedRoutes from './routes/embed.js'
import docsRoutes from './routes/docs.js'
import { documentRoutes, OPENAPI_INFO } from './openapi.js'
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
    // The embedded database's first start (create + migrate) took over fastify's default 10 s on a busy 2-core
    // machine in the start bench (issue #5), and the process gave up: allow it a minute.
    pluginTimeout: 60_000,
    routerOptions: { ignoreTrailingSlash: true }
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.decorate('config', config)
  app.decorate('now', deps.now ?? (() => new Date()))

  // Only JSON and urlencoded bodies (plus multipart on the one-click route); text/plain gets 415.
  app.removeContentTypeParser('text/plain')
  await app.register(formbody, { bodyLimit: BODY_LIMIT })
  await app.register(securityHeaders, {
    contentSecurityPolicy: {
      // Exactly these directives: helmet's defaults would add script-src 'self' and font sources (issue #3).
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
  // Cross-origin JavaScript may call only POST /subscribe (and load /embed.js), and only from ALLOWED_ORIGINS;
  // no cookies are involved, so credentials stay off (issue #4).
  await app.register(cors, {
    delegator: (request, callback) => {
      const path = (request.url ?? '').split('?')[0]
      const open = path === '/subscribe' || path === '/embed.js'
      callback(null, { origin: open ? config.allowedOrigins : false, methods: ['GET', 'POST'], credentials: false, maxAge: 600 })
    }
  })
  await app.register(swagger, { ...OPENAPI_INFO, transform: jsonSchemaTransform })
  documentRoutes(app)
  await app.register(errorsPlugin)
  await app.register(rateLimitsPlugin)
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
  await app.register(dashboardRoutes)
  await app.register(embedRoutes)
  await app.register(docsRoutes)
  await app.register(operationsRoutes)
  return app
}

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig
    now: () => Date
  }
}
