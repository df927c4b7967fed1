// The embeddable form: GET /embed.js (the script any site may load), the CORS rule that lets only ALLOWED_ORIGINS
// post to /subscribe from JavaScript, and GET /embed (the snippet staff copy into their site).
import t from 'tap'
import { buildTestApp, json, PUBLIC_URL } from '../helpers/app.js'

const html = { accept: 'text/html' }

t.test('/embed.js is a script any site may load: cross-origin resource policy, cacheable, no cookies', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ url: '/embed.js' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], 'text/javascript')
  t.equal(res.headers['cross-origin-resource-policy'], 'cross-origin')
  t.match(res.headers['cache-control'], 'public')
  t.notOk(res.headers['set-cookie'])
  t.match(res.body, 'form[data-joinlist]')
  t.notMatch(res.body, /document\.cookie|localStorage/)
  t.ok(res.body.length < 4096, `small: ${res.body.length} bytes`)
  const again = await app.inject({ url: '/embed.js', headers: { 'if-none-match': res.headers.etag as string } })
  t.equal(again.statusCode, 304)
})

t.test('CORS: only ALLOWED_ORIGINS may post to /subscribe from JavaScript, and no other route answers cross-origin', async (t) => {
  const { app } = await buildTestApp(t, { ALLOWED_ORIGINS: 'https://www.council.example' })
  const preflight = (origin: string, url = '/subscribe') => app.inject({
    method: 'OPTIONS', url, headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }
  })
  const allowed = await preflight('https://www.council.example')
  t.equal(allowed.headers['access-control-allow-origin'], 'https://www.council.example')
  t.match(allowed.headers['access-control-allow-headers'], 'content-type')
  t.notOk(allowed.headers['access-control-allow-credentials'], 'no cookies')
  t.notOk((await preflight('https://evil.example')).headers['access-control-allow-origin'])
  t.notOk((await preflight('https://www.council.example', '/admin/subscribers.csv')).headers['access-control-allow-origin'])
  const post = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'a@example.org' }), headers: { ...json({}).headers, origin: 'https://www.council.example' } })
  t.equal(post.statusCode, 202)
  t.equal(post.headers['access-control-allow-origin'], 'https://www.council.example')
})

t.test('/embed shows the copy-paste snippet with this service\'s address', async (t) => {
  const { app } = await buildTestApp(t, { ALLOWED_ORIGINS: 'https://www.council.example' })
  const res = await app.inject({ url: '/embed', headers: html })
  t.equal(res.statusCode, 200)
  t.match(res.body, `&lt;form method=&quot;post&quot; action=&quot;${PUBLIC_URL}/subscribe&quot; class=&quot;joinlist&quot; lang=&quot;en&quot; data-joinlist&gt;`)
  t.match(res.body, `&lt;script src=&quot;${PUBLIC_URL}/embed.js&quot; defer&gt;&lt;/script&gt;`)
  t.match(res.body, `&lt;link rel=&quot;stylesheet&quot; href=&quot;${PUBLIC_URL}/embed.css&quot;&gt;`, 'the optional stylesheet')
  t.match(res.body, 'name=&quot;website&quot; tabindex=&quot;-1&quot;', 'the honeypot')
  t.match(res.body, 'name=&quot;name&quot;', 'the optional name field')
  t.notMatch(res.body, 'https://www.council.example', 'the public page does not reveal the configuration')
  const welsh = await app.inject({ url: '/embed?lang=cy', headers: html })
  t.match(welsh.body, 'Cyfeiriad e-bost', 'the snippet in Welsh')
  const css = await app.inject({ url: '/embed.css' })
  t.equal(css.statusCode, 200)
  t.match(css.headers['content-type'], /^text\/css/)
  t.match(css.body, '[data-state=success]', 'success and error states are styled, not only announced')
})
