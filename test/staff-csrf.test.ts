// Staff changes cannot be forged from another website: Basic credentials are ambient, like a cookie (STANDARDS C23).
import t from 'tap'
import { buildTestApp, staff } from './helper.js'

t.test('a staff change posted from another website is refused, from this site or a script it works', async (t) => {
  const { app } = await buildTestApp(t)
  const forged = await app.inject({ method: 'POST', url: '/admin/outbox/retry-all', headers: { ...staff, 'sec-fetch-site': 'cross-site' } })
  t.equal(forged.statusCode, 403)
  t.equal(forged.json().error, 'cross_site')
  const byOrigin = await app.inject({ method: 'DELETE', url: '/admin/subscribers/a@example.org', headers: { ...staff, origin: 'https://evil.example' } })
  t.equal(byOrigin.statusCode, 403, 'Origin is checked where Sec-Fetch-Site is absent')
  const sameSite = await app.inject({ method: 'POST', url: '/admin/outbox/retry-all', headers: { ...staff, 'sec-fetch-site': 'same-origin', origin: 'https://news.example.org' } })
  t.equal(sameSite.statusCode, 200)
  const script = await app.inject({ method: 'POST', url: '/admin/outbox/retry-all', headers: staff })
  t.equal(script.statusCode, 200)
  const read = await app.inject({ url: '/admin/subscribers.csv', headers: { ...staff, 'sec-fetch-site': 'cross-site' } })
  t.equal(read.statusCode, 403, 'reads too: an export writes an audit row, and staff data is not for other sites')
})
