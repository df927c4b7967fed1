// Security headers: a strict Content-Security-Policy (no script at all), nosniff, and no Referer from pages whose URL
// carries a token (OWASP Forgot Password Cheat Sheet). They are computed once at start, and must be exactly what
// @fastify/helmet would send for the same options, on every route, with a route still able to override one.
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

t.test('pages carry a strict CSP and nosniff; token pages send no referrer', async (t) => {
  const { app } = await buildTestApp(t)
  const home = await app.inject({ url: '/', headers: { accept: 'text/html' } })
  const csp = String(home.headers['content-security-policy'])
  t.match(csp, /default-src 'none'/)
  t.match(csp, /script-src 'none'/, 'no script runs on our pages')
  t.notMatch(csp, /script-src[^;]*'self'/)
  t.notMatch(csp, /unsafe-eval/)
  t.match(csp, /frame-ancestors 'none'/)
  t.match(csp, /form-action 'self'/)
  t.match(csp, /base-uri 'none'/)
  t.equal(home.headers['x-content-type-options'], 'nosniff')
  const token = 'A'.repeat(43)
  const unsub = `00000000-0000-4000-8000-000000000000.${'B'.repeat(43)}`
  for (const [method, url] of [['GET', `/confirm/${token}`], ['POST', `/confirm/${token}`], ['GET', `/unsubscribe/${unsub}`], ['POST', `/unsubscribe/${unsub}`]] as const) {
    const res = await app.inject({ method, url, headers: { accept: 'text/html' } })
    t.equal(res.headers['referrer-policy'], 'no-referrer', `${method} ${url.slice(0, 12)}…`)
    t.match(String(res.headers['content-security-policy']), /default-src 'none'/)
    t.equal(res.headers['x-content-type-options'], 'nosniff')
  }
})
