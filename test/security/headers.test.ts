// The precomputed security headers are exactly what @fastify/helmet sends for the same options, on every route,
// and a route can still override one of them (issue #5 replaced the per-request helmet run).
import t from 'tap'
import Fastify from 'fastify'
import fastifyHelmet from '@fastify/helmet'
import securityHeaders from '../../src/plugins/security-headers.js'
import { buildTestApp } from '../helpers/app.js'

const options = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'none'"],
      styleSrc: ["'unsafe-inline'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      upgradeInsecureRequests: null
    }
  },
  strictTransportSecurity: true,
  referrerPolicy: { policy: 'no-referrer' as const }
}

async function headersFrom (plugin: typeof securityHeaders | typeof fastifyHelmet) {
  const app = Fastify()
  await app.register(plugin as typeof securityHeaders, options)
  app.get('/', async () => 'ok')
  const res = await app.inject({ url: '/' })
  await app.close()
  const { date, ...rest } = res.headers
  return rest
}

t.test('the precomputed headers equal what @fastify/helmet sends for the same options', async (t) => {
  const ours = await headersFrom(securityHeaders)
  t.same(ours, await headersFrom(fastifyHelmet))
  t.match(ours['content-security-policy'], /default-src 'none'/)
})

t.test('every response of the app carries them', async (t) => {
  const { app } = await buildTestApp(t)
  for (const url of ['/', '/healthz', '/no-such-page']) {
    const res = await app.inject({ url })
    t.match(res.headers['content-security-policy'], /frame-ancestors 'none'/, url)
    t.equal(res.headers['referrer-policy'], 'no-referrer', url)
    t.equal(res.headers['x-content-type-options'], 'nosniff', url)
  }
})

t.test('a route can still override one of them', async (t) => {
  const app = Fastify()
  await app.register(securityHeaders, options)
  app.get('/embed.js', async (request, reply) => reply.header('cross-origin-resource-policy', 'cross-origin').send('x'))
  const res = await app.inject({ url: '/embed.js' })
  t.equal(res.headers['cross-origin-resource-policy'], 'cross-origin')
  t.equal(res.headers['referrer-policy'], 'no-referrer')
  await app.close()
})
