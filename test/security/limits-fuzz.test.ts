// Body and protocol limits: 413 over 16 KiB, 400 for malformed JSON, 415 for other types,
// unknown fields ignored, wrong methods 404; then a fuzz run of generated bad requests against every public
// endpoint: never a 5xx, never a row or a mail.
import t from 'tap'
import fc from 'fast-check'
import { buildTestApp, json, staff } from '../helpers/app.js'
import { csvRecords, outboxIdle, rowCount } from '../helpers/flow.js'

t.test('a body over 16 KiB is a 413, as JSON, form or multipart, on every route that takes a body', async (t) => {
  const env = await buildTestApp(t)
  const big = 'a'.repeat(17 * 1024)
  for (const url of ['/subscribe', '/confirm/abcdefghijklmnopqrstuvwxyz', '/unsubscribe/abc.def']) {
    for (const [type, payload] of [
      ['application/json', JSON.stringify({ email: 'big@example.org', name: big })],
      ['application/x-www-form-urlencoded', `email=big%40example.org&name=${big}`],
      ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n${big}\r\n--x--\r\n`]
    ]) {
      const res = await env.app.inject({ method: 'POST', url, payload, headers: { 'content-type': type, accept: 'application/json' } })
      const expected = type.startsWith('multipart') && url === '/subscribe' ? 415 : 413
      t.equal(res.statusCode, expected, `${url} ${type}`)
      if (expected === 413) t.match(res.json(), { error: 'body_too_large', message: /16 KiB/ })
    }
  }
  t.equal(await rowCount(env.database, 'subscribers'), 0)
})

t.test('malformed JSON is a 400, other content types a 415, with the JSON error shape', async (t) => {
  const env = await buildTestApp(t, { RATE_LIMIT_SUBSCRIBE_MAX: '1000' })
  const post = (payload: string, type?: string) => env.app.inject({ method: 'POST', url: '/subscribe', payload, headers: { accept: 'application/json', ...(type ? { 'content-type': type } : {}) } })
  for (const bad of ['{', '{"email": }', '[1,2', 'null x', '\u0000']) {
    const res = await post(bad, 'application/json')
    t.equal(res.statusCode, 400, JSON.stringify(bad))
    t.match(res.json(), { error: 'bad_request', message: /could not be read/ })
  }
  for (const type of ['text/plain', 'application/xml', 'text/html', 'image/png', 'application/x-www-form-urlencodedX']) {
    const res = await post('email=a@example.org', type)
    t.equal(res.statusCode, 415, type)
    t.match(res.json(), { error: 'unsupported_media_type' })
  }
  t.equal((await post('email=a@example.org')).statusCode, 415, 'no content type at all')
  const wrongType = await env.app.inject({ method: 'POST', url: '/subscribe', ...json({ email: ['a@example.org'] }) })
  t.equal(wrongType.statusCode, 400, 'email as an array')
  t.match(wrongType.json(), { error: 'invalid_field', field: 'email' })
  t.equal(await rowCount(env.database, 'subscribers'), 0)
})

t.test('unknown fields are ignored, consistently: they can neither set state nor fail the request', async (t) => {
  const env = await buildTestApp(t)
  const res = await env.app.inject({
    method: 'POST',
    url: '/subscribe',
    ...json({ email: 'extra@example.org', status: 'confirmed', confirmed_at: '2020-01-01', id: 1, admin: true })
  })
  t.equal(res.statusCode, 202)
  // Prototype-poisoning keys are the exception: Fastify's JSON parser refuses them outright (400).
  const poisoned = await env.app.inject({ method: 'POST', url: '/subscribe', payload: '{"email":"p@example.org","__proto__":{"x":1}}', headers: { 'content-type': 'application/json', accept: 'application/json' } })
  t.equal(poisoned.statusCode, 400)
  const rows = csvRecords((await env.app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })).body)
  t.match(rows, [{ email: 'extra@example.org', status: 'pending', confirmed_at: '' }])
})

t.test('wrong methods get 404 with the JSON error shape, never a 5xx or a state change', async (t) => {
  const env = await buildTestApp(t)
  for (const [method, url] of [['PUT', '/subscribe'], ['DELETE', '/subscribe'], ['PATCH', '/confirm/abcdefghijklmnopqrst'],
    ['DELETE', '/unsubscribe/abc.def'], ['POST', '/'], ['POST', '/admin/subscribers.csv'], ['DELETE', '/admin/subscribers.csv'],
    ['GET', '/subscribe']] as const) {
    const res = await env.app.inject({ method, url, headers: { accept: 'application/json' } })
    t.ok([404, 405].includes(res.statusCode), `${method} ${url} → ${res.statusCode}`)
    t.equal(res.json().error, res.statusCode === 404 ? 'not_found' : 'method_not_allowed')
  }
  // OPTIONS /subscribe is the CORS preflight of the embedded form: without an Origin it is refused, never a 5xx or a 2xx.
  const preflight = await env.app.inject({ method: 'OPTIONS', url: '/subscribe', headers: { accept: 'application/json' } })
  t.equal(preflight.statusCode, 400, 'a preflight without an Origin is refused')
})

// ---- fuzzing ----

/** Lone surrogates → U+FFFD, so the text can be URL-encoded at all. */
const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')

const ENDPOINTS = ['/subscribe', '/confirm/{t}', '/unsubscribe/{t}', '/', '/subscribe/thanks', '/admin/subscribers.csv', '/healthz', '/{t}']
const TYPES = ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=zz', 'multipart/form-data',
  'text/plain', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded; charset=latin1', '', 'application/json\u00e9', 'x/y; a="']

const oddText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.constantFrom('\u202e', '\ufeff', '\u0000', '\r\n', '\u2028', '\ud800', '\udfff', '𝕒@𝕓.𝕔', 'a@b\u0301.com', '"a\r\nBcc: x"@example.com',
    // eslint-disable-next-line no-template-curly-in-string -- a template-injection probe, meant literally
    '%00', '../../etc/passwd', '\\', '=HYPERLINK("x")', '<script>', '${7*7}', "' OR 1=1 --", '__proto__', 'a'.repeat(70) + '@example.org'),
  fc.nat({ max: 20_000 }).map((n) => 'x'.repeat(n))
)

const wrongTypes = fc.record({
  email: fc.oneof(fc.constant(undefined), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.object({ maxDepth: 2 }), oddText),
  name: fc.oneof(fc.constant(undefined), fc.integer(), oddText, fc.array(oddText, { maxLength: 2 })),
  source: fc.oneof(fc.constant(undefined), fc.double(), oddText),
  website: fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 })),
  form_started: fc.oneof(fc.constant(undefined), oddText, fc.integer()),
  redirect: fc.oneof(fc.constant(undefined), oddText),
  'List-Unsubscribe': fc.oneof(fc.constant(undefined), fc.constant('One-Click'), oddText)
}, { requiredKeys: [] })

const body = fc.oneof(
  fc.uint8Array({ maxLength: 20_000 }).map((b) => Buffer.from(b)),
  oddText,
  wrongTypes.map((o) => JSON.stringify(o)),
  wrongTypes.map((o) => new URLSearchParams(Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString()),
  fc.nat({ max: 9000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.nat({ max: 1500 }).map((n) => '{"email":'.repeat(n) + '1' + '}'.repeat(n)),
  fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
  fc.constant('{"__proto__":{"polluted":1},"email":"a@example.org","website":"x"}'),
  fc.constant('--zz\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--zz--')
)

const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'HEAD', 'PUT', 'DELETE'),
  endpoint: fc.constantFrom(...ENDPOINTS),
  // Already URL-encoded: arbitrary text, plus raw malformed percent-escapes.
  token: fc.oneof(oddText.map((x) => encodeURIComponent(wellFormed(x))), fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%C0%AF', '..%2F..%2F'), fc.stringMatching(/^[A-Za-z0-9_.-]{16,60}$/), fc.uuid().map((u) => `${u}.${'A'.repeat(43)}`)),
  query: fc.oneof(fc.constant(''), oddText.map((q) => `?source=${encodeURIComponent(wellFormed(q))}`), fc.constant('?status=all&since=2020-13-45'), fc.constant('?source=' + 'x'.repeat(5000))),
  contentType: fc.constantFrom(...TYPES),
  accept: fc.constantFrom('application/json', 'text/html', '*/*', '', 'text/html;q=0.1, application/json'),
  authorization: fc.constantFrom(undefined, 'Bearer x', 'Basic !!!', 'Basic ' + Buffer.from(':').toString('base64'), 'Bearer ' + 'z'.repeat(300)),
  payload: body
})

t.test('1,200 generated bad requests across every public endpoint: no 5xx, no row, no mail', async (t) => {
  const env = await buildTestApp(t, { RATE_LIMIT_SUBSCRIBE_MAX: '100000', RATE_LIMIT_TOKEN_MAX: '100000', RATE_LIMIT_STAFF_FAILURES: '1000' })
  const statuses = new Map<number, number>()
  let sent = 0
  await fc.assert(fc.asyncProperty(request, async (r) => {
    const path = r.endpoint.replace('{t}', r.token) + r.query
    const headers: Record<string, string> = {}
    if (r.contentType) headers['content-type'] = r.contentType
    if (r.accept) headers.accept = r.accept
    if (r.authorization) headers.authorization = r.authorization
    const withBody = r.method === 'POST' || r.method === 'PUT'
    const res = await env.app.inject({ method: r.method as 'GET', url: path, headers, ...(withBody ? { payload: r.payload } : {}) })
    sent++
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    if (res.statusCode >= 500) {
      t.comment(`${res.statusCode} for ${r.method} ${path.slice(0, 200)}: ${res.body.slice(0, 300)}`)
      throw new Error(`${res.statusCode} for ${r.method} ${path.slice(0, 200)}: ${res.body.slice(0, 300)}`)
    }
  }), { numRuns: 1200, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), endOnFailure: true, includeErrorInReport: true })
  t.ok(sent >= 1000, `${sent} requests sent`)
  t.comment(`statuses: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')}`)
  t.equal(await rowCount(env.database, 'subscribers'), 0, 'no subscriber row')
  t.equal(await rowCount(env.database, 'outbox'), 0, 'no outbox message')
  await outboxIdle(env.database)
  t.equal(env.smtp.mails.length, 0, 'no mail')
})
