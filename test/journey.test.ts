// The whole subscriber journey over HTTP and real SMTP: sign up, confirm from the mail, one-click unsubscribe, export.
import t from 'tap'
import { buildTestApp, json, staff } from './helpers/app.js'
import { linkIn, pathOf } from './helpers/mail.js'
import { csvRecords } from './helpers/flow.js'

t.test('a visitor signs up, confirms from the mail, leaves in one click, and the export shows each step', async (t) => {
  const { app, smtp } = await buildTestApp(t)

  const signup = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'Jane.Doe@Example.org', name: 'Jane', source: 'footer' }) })
  t.equal(signup.statusCode, 202)
  t.same(signup.json().status, 'pending')

  const [confirmation] = await smtp.waitFor(1)
  t.same(confirmation.envelope.to, ['Jane.Doe@example.org'], 'sent to the address as typed (nodemailer lower-cases the domain)')
  t.match(confirmation.parsed.subject, /Confirm your subscription to Policy Notes/)
  const confirmUrl = linkIn(confirmation, '/confirm/')
  t.ok(confirmation.parsed.html && confirmation.parsed.html.includes(confirmUrl), 'the link is in the HTML part too')
  t.equal(confirmation.parsed.headers.get('auto-submitted'), 'auto-generated')
  t.match(confirmation.parsed.messageId, /@mail\.example\.org>$/)
  t.notOk(confirmation.parsed.headers.get('list-unsubscribe-post'), 'the confirmation mail is transactional')

  let csv = csvRecords((await app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })).body)
  t.equal(csv[0].status, 'pending', 'still pending before the button is pressed')

  const page = await app.inject({ url: pathOf(confirmUrl), headers: { accept: 'text/html' } })
  t.equal(page.statusCode, 200)
  t.match(page.body, /<button type="submit">Confirm subscription<\/button>/)
  csv = csvRecords((await app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })).body)
  t.equal(csv[0].status, 'pending', 'opening the link does not confirm')

  const confirmed = await app.inject({ method: 'POST', url: pathOf(confirmUrl), headers: { accept: 'text/html', 'user-agent': 'Browser/1.0' } })
  t.equal(confirmed.statusCode, 200)
  t.match(confirmed.body, /You(&#39;|')re subscribed/)

  const [, welcome] = await smtp.waitFor(2)
  t.match(welcome.parsed.subject, /Welcome to Policy Notes/)
  const listUnsubscribe = welcome.raw.split(/\r?\n(?=\S)/).filter((l) => /^List-Unsubscribe:/i.test(l))
  const listUnsubscribePost = welcome.raw.split(/\r?\n(?=\S)/).filter((l) => /^List-Unsubscribe-Post:/i.test(l))
  t.equal(listUnsubscribe.length, 1, 'exactly one List-Unsubscribe')
  t.equal(listUnsubscribePost.length, 1, 'exactly one List-Unsubscribe-Post')
  t.match(listUnsubscribePost[0], /List-Unsubscribe-Post: List-Unsubscribe=One-Click/)
  const unsubscribeUrl = /<(https:\/\/news\.example\.org\/unsubscribe\/[^>]+)>/.exec(listUnsubscribe[0].replace(/\r?\n\s+/g, ''))![1]
  t.ok((welcome.parsed.text ?? '').includes(unsubscribeUrl), 'a visible unsubscribe link in the body')

  csv = csvRecords((await app.inject({ url: '/admin/subscribers.csv', headers: staff })).body)
  t.equal(csv.length, 1)
  t.match(csv[0], { email: 'Jane.Doe@Example.org', name: 'Jane', status: 'confirmed', source: 'footer', confirm_ip: '127.0.0.1', unsubscribed_at: '', unsubscribe_url: unsubscribeUrl })
  t.match(csv[0].signed_up_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.match(csv[0].confirmed_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)

  const oneClick = await app.inject({
    method: 'POST', url: pathOf(unsubscribeUrl), payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' }
  })
  t.equal(oneClick.statusCode, 200)
  t.notOk(oneClick.headers.location, 'never a redirect (RFC 8058)')

  csv = csvRecords((await app.inject({ url: '/admin/subscribers.csv?status=unsubscribed', headers: staff })).body)
  t.equal(csv.length, 1)
  t.equal(csv[0].status, 'unsubscribed')
  t.match(csv[0].unsubscribed_at, /^\d{4}-/)
  t.equal((await app.inject({ url: '/admin/subscribers.csv', headers: staff })).body.trim().split('\n').length, 1, 'no confirmed rows left: header only')
})
