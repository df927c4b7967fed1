// Public-side hardening: the form's redirect after dot segments.
import t from 'tap'
import { buildTestApp, form } from './helper.js'

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
