// The owners' webhooks page, as staff use it in a browser without JavaScript: add an endpoint with the form (the
// secret is shown once), see its deliveries, retry a dead one, turn it off and on.
import t from 'tap'
import { buildTestApp, form, staff } from '../helpers/app.js'
import { signUp } from '../helpers/flow.js'
import { startReceiver } from '../helpers/receiver.js'
import { waitUntil } from '../helpers/wait.js'

const asStaffForm = (fields: Record<string, string>) => { const f = form(fields); return { ...f, headers: { ...f.headers, ...staff } } }

t.test('add an endpoint from the page, see a dead delivery, retry it, turn the endpoint off', async (t) => {
  const ta = await buildTestApp(t, { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_MAX_ATTEMPTS: '1', WEBHOOK_RETRY_BASE_MS: '50' })
  const receiver = await startReceiver(t)
  const empty = await ta.app.inject({ url: '/admin/webhooks', headers: { ...staff, accept: 'text/html' } })
  t.equal(empty.statusCode, 200)
  t.match(empty.body, /No webhook endpoints yet/)

  const bad = await ta.app.inject({ method: 'POST', url: '/admin/webhooks', ...asStaffForm({ url: 'ftp://x.example/', eventTypes: 'subscription.pending' }) })
  t.equal(bad.statusCode, 400)
  t.match(bad.body, /must be an absolute http\(s\) URL/)

  const added = await ta.app.inject({ method: 'POST', url: '/admin/webhooks', ...asStaffForm({ url: receiver.url, eventTypes: 'subscription.pending', list: 'main' }) })
  t.equal(added.statusCode, 200)
  t.match(added.body, /whsec_[A-Za-z0-9+/=]+/, 'the secret, once')

  receiver.answer = 500
  await signUp(ta.app, 'page@example.org')
  const pageText = async () => (await ta.app.inject({ url: '/admin/webhooks', headers: staff })).body
  await waitUntil(async () => /<td>dead<\/td>/.test(await pageText()))
  const body = await pageText()
  t.notMatch(body, /whsec_/, 'the secret is not on the page')
  const action = /action="(\/admin\/webhooks\/[^"]+\/retry)"/.exec(body)![1]
  receiver.answer = 200
  const retried = await ta.app.inject({ method: 'POST', url: action, ...asStaffForm({}) })
  t.equal(retried.statusCode, 303)
  t.equal(retried.headers.location, '/admin/webhooks')
  await receiver.waitForDelivered(1)

  const off = /action="(\/admin\/webhooks\/[^"]+\/off)"/.exec(await pageText())![1]
  t.equal((await ta.app.inject({ method: 'POST', url: off, ...asStaffForm({}) })).statusCode, 303)
  t.match(await pageText(), /State: Off/)
  t.equal((await ta.app.inject({ url: '/admin/webhooks', headers: { ...staff, 'sec-fetch-site': 'cross-site' } })).statusCode, 403, 'not from another site')
})
