// Public-side hardening: the form's redirect after dot segments, own-property lookups for header-chosen languages,
// and the self-service erasure answered to JSON callers.
import t from 'tap'
import { buildTestApp, form, json, staff } from '../helpers/app.js'
import { linkIn, pathOf } from '../helpers/mail.js'

const THANKS = '/subscribe/thanks'

t.test('a form redirect is checked after normalising: no Location that another site would receive', async (t) => {
  const { app } = await buildTestApp(t, { ALLOWED_REDIRECT_ORIGINS: 'https://www.example.org', RATE_LIMIT_SUBSCRIBE_MAX: '1000' })
  const cases: Array<[string, string]> = [
    // Dot segments that collapse into a protocol-relative URL (browsers read `//host` as another site).
    ['/.//evil.example/phish', THANKS],
    ['/a/..//x', THANKS],
    ['/%2e%2e//x', THANKS],
    ['/%2E%2E//x', THANKS],
    ['/././/evil.example', THANKS],
    ['/a/b/../..//evil.example/', THANKS],
    ['/.%2e//evil.example', THANKS],
    // The cases refused before.
    ['//evil.example/phish', THANKS],
    ['/\\evil.example', THANKS],
    ['/./\\evil.example', THANKS],
    ['https://evil.example/phish', THANKS],
    ['javascript:alert(1)', THANKS],
    ['https://user:pw@www.example.org/', THANKS],
    [' /welcome', THANKS],
    ['/welcome\n', THANKS],
    ['', THANKS],
    // Allowed: paths on this site (normalised) and allowed origins.
    ['/welcome', '/welcome'],
    ['/welcome?from=form#top', '/welcome?from=form#top'],
    ['/a/../welcome', '/welcome'],
    ['/%2e%2e/welcome', '/welcome'],
    ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
    ['https://www.example.org/thanks', 'https://www.example.org/thanks']
  ]
  for (const [redirect, expected] of cases) {
    const res = await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'redirected@example.org', redirect }) })
    t.equal(res.statusCode, 303, JSON.stringify(redirect))
    const location = String(res.headers.location)
    t.equal(location, expected, `${JSON.stringify(redirect)} → ${location}`)
    t.notMatch(location, /^\/[/\\]/, 'never a protocol-relative Location')
  }
})

const TRICKY_LANGUAGES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'constructor, __proto__;q=0.9, en;q=0.1', '__proto__-GB']

t.test('pages answer 200 in English whatever Accept-Language names, prototype members included', async (t) => {
  const { app, smtp } = await buildTestApp(t, { RATE_LIMIT_TOKEN_MAX: '1000' })
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'polyglot@example.org' }) })
  const [confirmation] = await smtp.waitFor(1)
  const confirmPath = pathOf(linkIn(confirmation, '/confirm/'))
  for (const language of TRICKY_LANGUAGES) {
    const headers = { accept: 'text/html', 'accept-language': language }
    for (const url of ['/', THANKS, confirmPath, '/embed', '/docs']) {
      const res = await app.inject({ url, headers })
      t.equal(res.statusCode, 200, `${url} with Accept-Language: ${language}`)
      t.match(res.body, /<html lang="en">/)
    }
    const missing = await app.inject({ url: '/no-such-page', headers })
    t.equal(missing.statusCode, 404)
    t.match(missing.body, /<h1>Page not found<\/h1>/)
    const confirmed = await app.inject({ method: 'POST', url: confirmPath, headers })
    t.equal(confirmed.statusCode, 200, `POST /confirm with Accept-Language: ${language}`)
    // The first POST confirms; the later ones say so ("already subscribed").
    t.match(confirmed.body, /<h1>You(&#39;|')re (already )?subscribed<\/h1>/)
  }
  const [, welcome] = await smtp.waitFor(2)
  const unsubscribePath = pathOf(linkIn(welcome, '/unsubscribe/'))
  for (const language of TRICKY_LANGUAGES) {
    const headers = { accept: 'text/html', 'accept-language': language }
    t.equal((await app.inject({ url: unsubscribePath, headers })).statusCode, 200, `GET /unsubscribe with ${language}`)
    const left = await app.inject({ method: 'POST', url: unsubscribePath, headers })
    t.equal(left.statusCode, 200, `POST /unsubscribe with Accept-Language: ${language}`)
    t.match(left.body, /unsubscribed/)
    t.notMatch(left.body, /Cannot|undefined|TypeError/, 'no internal message')
  }
  const staffOnly = await app.inject({ url: '/admin/outbox', headers: { accept: 'application/json', 'accept-language': '__proto__' } })
  t.equal(staffOnly.statusCode, 401, 'JSON answers too')
})

t.test('"unsubscribe and delete my data" answers JSON callers 200 {status: "erased"}', async (t) => {
  const { app, smtp } = await buildTestApp(t)
  const signUpAndConfirm = async (email: string, n: number) => {
    await app.inject({ method: 'POST', url: '/subscribe', ...json({ email }) })
    const mails = await smtp.waitFor(n)
    await app.inject({ method: 'POST', url: pathOf(linkIn(mails[n - 1], '/confirm/')), headers: { accept: 'application/json' } })
    return pathOf(linkIn((await smtp.waitFor(n + 1))[n], '/unsubscribe/'))
  }
  const erasedOf = async (email: string) => (await app.inject({ url: `/admin/subscribers/${email}`, headers: staff })).json()
  const cases: Array<[string, Record<string, string>]> = [
    ['json-caller@example.org', { accept: 'application/json' }],
    ['no-accept@example.org', {}],
    ['any-accept@example.org', { accept: '*/*' }]
  ]
  for (const [i, [email, headers]] of cases.entries()) {
    const link = await signUpAndConfirm(email, 2 * i + 1)
    const res = await app.inject({ method: 'POST', url: link, payload: 'erase=1', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } })
    t.equal(res.statusCode, 200, `${email}: ${JSON.stringify(headers)}`)
    if (String(res.headers['content-type']).startsWith('application/json')) t.same(res.json(), { status: 'erased' })
    else t.match(res.body, /Your data is deleted/)
    t.match(await erasedOf(email), { subscriber: null, suppressed: true }, 'and the data is gone')
  }
  const doc = (await app.inject({ url: '/openapi.json' })).json()
  const answer = JSON.stringify(doc.paths['/unsubscribe/{token}'].post.responses['200'].content['application/json'].schema)
  t.match(answer, /"unsubscribed"/, 'the OpenAPI document describes the unsubscribed answer')
  t.match(answer, /"erased"/, '… and the erased one')
})

t.test('an error page that cannot be rendered still gets the generic answer, never the internal message', async (t) => {
  const { app } = await buildTestApp(t)
  // Every page now fails to render, the error page included.
  Object.defineProperty(app.config, 'listName', { get () { throw new Error('internal detail: listName') } })
  for (const url of ['/', '/no-such-page']) {
    const res = await app.inject({ url, headers: { accept: 'text/html', 'accept-language': 'constructor' } })
    t.equal(res.statusCode, url === '/' ? 500 : 404, url)
    t.notMatch(res.body, /internal detail|listName/)
    t.match(res.json(), { error: url === '/' ? 'internal' : 'not_found', message: /^(Something went wrong on our side|There is nothing at this address)/ })
  }
})
