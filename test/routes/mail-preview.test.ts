// Staff preview of the mail templates: sample data, text and HTML, the HTML never live in the page's origin.
import t from 'tap'
import { simpleParser } from 'mailparser'
import { buildTestApp, staff } from '../helpers/app.js'

t.test('staff see each template with sample data: subject, the HTML in a sandboxed iframe, the text part and the headers', async (t) => {
  const { app } = await buildTestApp(t)
  for (const [template, subject, link] of [['confirmation', 'Confirm your subscription to Policy Notes', '/confirm/'], ['welcome', 'Welcome to Policy Notes', '/unsubscribe/']]) {
    const res = await app.inject({ url: `/admin/mail-preview/${template}`, headers: staff })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^text\/html/)
    t.equal(res.headers['cache-control'], 'no-store')
    t.match(res.body, `<strong>${subject}</strong>`)
    const iframe = /<iframe title="HTML part" sandbox srcdoc="([^"]*)"/.exec(res.body)
    t.ok(iframe, 'the HTML part sits in a sandboxed iframe (no allow-scripts, no allow-same-origin)')
    t.match(iframe![1], /^&lt;!doctype html&gt;/, 'escaped into the attribute')
    t.notMatch(iframe![1], /[<>"]/, 'nothing can break out of srcdoc')
    t.match(res.body, new RegExp(`<pre[^>]*>Hello${template === 'welcome' ? ' Jane Doe' : ''},[\\s\\S]*https://news\\.example\\.org${link}SAMPLE-`), 'the text part with sample data')
    t.match(res.body, /Auto-Submitted: auto-generated/, 'the headers as they go out')
    t.match(res.headers['content-security-policy'], /default-src 'none'/)
  }
})

t.test('?part=html serves the mail HTML alone under a CSP with no script and no remote content; ?part=text and ?part=eml', async (t) => {
  const { app } = await buildTestApp(t, { UNSUBSCRIBE_MAILTO: 'leave@mail.example.org' })
  const htmlPart = await app.inject({ url: '/admin/mail-preview/welcome?part=html', headers: staff })
  t.equal(htmlPart.statusCode, 200)
  t.match(htmlPart.body, /^<!doctype html>/)
  t.equal(htmlPart.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox")
  const text = await app.inject({ url: '/admin/mail-preview/welcome?part=text', headers: staff })
  t.match(text.headers['content-type'], /^text\/plain/)
  t.match(text.body, /You're subscribed to Policy Notes/)
  const eml = await app.inject({ url: '/admin/mail-preview/welcome?part=eml', headers: staff })
  t.equal(eml.headers['content-type'], 'message/rfc822')
  t.match(eml.headers['content-disposition'], /attachment; filename="welcome-sample\.eml"/)
  const parsed = await simpleParser(eml.rawPayload)
  t.equal(parsed.subject, 'Welcome to Policy Notes')
  t.match(parsed.headerLines.find((h) => h.key === 'list-unsubscribe')?.line.replace(/\r?\n\s+/g, ' '), /<https:\/\/news\.example\.org\/unsubscribe\/SAMPLE-[^>]+>, <mailto:leave@mail\.example\.org\?subject=unsubscribe>/)
})

t.test('the preview is for staff only, and an unknown template or part is refused', async (t) => {
  const { app } = await buildTestApp(t)
  const anonymous = await app.inject({ url: '/admin/mail-preview/confirmation' })
  t.equal(anonymous.statusCode, 401)
  t.match(anonymous.headers['www-authenticate'], /^Basic /)
  const unknown = await app.inject({ url: '/admin/mail-preview/newsletter', headers: staff })
  t.equal(unknown.statusCode, 404)
  t.same(unknown.json(), { error: 'not_found', message: 'No mail template "newsletter": use confirmation, welcome, or staff-invite.', field: 'template' })
  const badPart = await app.inject({ url: '/admin/mail-preview/welcome?part=pdf', headers: staff })
  t.equal(badPart.statusCode, 400)

  const closed = await buildTestApp(t, { ADMIN_TOKEN: undefined })
  t.equal((await closed.app.inject({ url: '/admin/mail-preview/welcome', headers: staff })).statusCode, 503, 'closed without ADMIN_TOKEN')
})

t.test('?lang=cy previews the Welsh templates; an unknown language is a 400', async (t) => {
  const { app } = await buildTestApp(t)
  const welsh = await app.inject({ url: '/admin/mail-preview/confirmation?lang=cy', headers: staff })
  t.equal(welsh.statusCode, 200)
  t.match(welsh.body, 'Rhagolwg e-bost: confirmation (Cymraeg)', 'the page follows ?lang= too')
  t.match(welsh.body, 'Cadarnhewch eich tanysgrifiad i Policy Notes')
  const text = await app.inject({ url: '/admin/mail-preview/welcome?lang=cy&part=text', headers: staff })
  t.match(text.body, 'Diolch am gadarnhau.')
  const bad = await app.inject({ url: '/admin/mail-preview/welcome?lang=xx', headers: { ...staff, accept: 'application/json' } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { field: 'lang' })
})
