// The API documentation: GET /openapi.json, generated from the routes' own zod schemas, and the /docs page.
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'

const html = { accept: 'text/html' }

t.test('/openapi.json describes every public and staff endpoint with its errors, and /docs lists them', async (t) => {
  const { app } = await buildTestApp(t)
  const doc = (await app.inject({ url: '/openapi.json' })).json()
  t.equal(doc.openapi, '3.1.0')
  const expect: Record<string, string[]> = {
    'post /subscribe': ['200', '202', '303', '400', '403', '413', '415', '429', '503'],
    'post /confirm/{token}': ['200', '404', '410', '429', '503'],
    'post /unsubscribe/{token}': ['200', '404', '413', '429', '503'],
    'get /confirm/{token}': ['200', '404', '410', '429'],
    'get /unsubscribe/{token}': ['200', '404', '429'],
    'get /unsubscribe/{token}/erase': ['200', '404', '429'],
    'get /admin/subscribers.csv': ['200', '400', '401', '403', '429', '503'],
    'get /admin': ['200', '401', '403', '429', '503'],
    'get /admin/mail-preview/{template}': ['200', '400', '401', '403', '404', '429', '503'],
    'get /admin/subscribers/{email}': ['200', '400', '401', '403', '404', '429', '503'],
    'delete /admin/subscribers/{email}': ['200', '400', '401', '403', '429', '503'],
    'get /admin/consent-texts/{version}': ['200', '400', '401', '403', '404', '429', '503'],
    'get /admin/outbox': ['200', '401', '403', '429', '503'],
    'post /admin/outbox/{id}/retry': ['200', '400', '401', '403', '404', '429', '503'],
    'get /metrics': ['200', '401', '403', '429', '503'],
    'get /': ['200'],
    'get /embed.js': ['200', '304'],
    'get /embed.css': ['200', '304'],
    'get /healthz': ['200'],
    'get /readyz': ['200', '503']
  }
  for (const [key, statuses] of Object.entries(expect)) {
    const [method, path] = key.split(' ')
    const op = doc.paths[path]?.[method]
    t.ok(op?.summary, `${key} has a summary`)
    t.same(Object.keys(op?.responses ?? {}).sort(), statuses.sort(), `${key} answers`)
    for (const status of statuses) t.not(op.responses[status].description, 'Default Response', `${key} ${status} is described`)
  }
  t.same(doc.paths['/subscribe'].post.requestBody.content['application/json'].schema.required, ['email'], 'from the zod schema')
  t.same(doc.paths['/admin'].get.security, [{ bearer: [] }, { basic: [] }])
  const docs = await app.inject({ url: '/docs', headers: html })
  t.equal(docs.statusCode, 200)
  t.match(docs.body, '<code>POST /subscribe</code>')
  t.match(docs.body, '<code>GET /admin/subscribers.csv</code>')
})
