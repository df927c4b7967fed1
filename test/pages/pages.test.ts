// The visitor's pages over HTTP: branding (with the accent colour's contrast check), the language picked from
// Accept-Language, the form's error summary, and the pages for broken links and unknown addresses (the browser test
// covers the rest).
import t from 'tap'
import { loadConfig, ConfigError } from '../../src/config.js'
import { pickLanguage } from '../../src/messages/index.js'
import { buildTestApp, form, json } from '../helpers/app.js'

const html = { accept: 'text/html' }

t.test('ACCENT_COLOR must be a hex colour readable as text on white and under white text', async (t) => {
  t.throws(() => loadConfig({ ACCENT_COLOR: 'blue' }), new ConfigError('ACCENT_COLOR: must be a hex colour such as #1d4ed8'))
  t.throws(() => loadConfig({ ACCENT_COLOR: '#ffcc00' }), /ACCENT_COLOR: #ffcc00 has a contrast of 1\.\d+:1 with white; WCAG 2\.2 AA needs at least 4\.5:1/)
  t.equal(loadConfig({ ACCENT_COLOR: '#0B0C0C' }).accentColor, '#0b0c0c')
  t.equal(loadConfig({ ACCENT_COLOR: '#036' }).accentColor, '#036')
  t.equal(loadConfig({}).accentColor, '#1d4ed8')
})

t.test('Accept-Language picks a shipped language by quality, region falls back to its language, else English', async (t) => {
  const shipped = { en: {}, cy: {}, 'pt-br': {} }
  t.equal(pickLanguage('fr;q=0.5, cy-GB, de;q=0, en;q=0.8', undefined, shipped), 'cy', 'q=0 means not this one')
  t.equal(pickLanguage('cy-GB,en;q=0.8', undefined, shipped), 'cy')
  t.equal(pickLanguage('fr, en;q=0.2, cy;q=0.5', undefined, shipped), 'cy')
  t.equal(pickLanguage('pt-BR', undefined, shipped), 'pt-br')
  t.equal(pickLanguage('de, fr', undefined, shipped), 'en')
  t.equal(pickLanguage(undefined, undefined, shipped), 'en')
  t.equal(pickLanguage('cy', 'en', shipped), 'en', 'PAGE_LANGUAGE wins over the browser')
})

t.test('the branding shows on every page: list name, logo, accent colour, and the privacy link by the consent text', async (t) => {
  const { app } = await buildTestApp(t, {
    LOGO_URL: 'https://cdn.council.example/logo.svg',
    ACCENT_COLOR: '#005ea5',
    PRIVACY_URL: 'https://council.example/privacy',
    CONSENT_TEXT: 'Yes, send me the council newsletter.'
  })
  const page = await app.inject({ url: '/', headers: html })
  t.equal(page.statusCode, 200)
  t.match(page.body, '<html lang="en">')
  t.match(page.body, '<img src="https://cdn.council.example/logo.svg" alt="">')
  t.match(page.body, '<span>Policy Notes</span>')
  t.match(page.body, 'background:#005ea5')
  t.match(page.body, '<p class="consent">Yes, send me the council newsletter. <a href="https://council.example/privacy">Privacy policy</a></p>')
  t.match(page.body, /<input type="email" id="email" name="email" autocomplete="email" inputmode="email"/)
  t.equal(page.body.match(/<h1>/g)?.length, 1)
  t.match(page.headers['content-security-policy'], /img-src 'self' data: https:\/\/cdn\.council\.example/, 'the logo is allowed by CSP')
  const thanks = await app.inject({ url: '/subscribe/thanks', headers: html })
  t.match(thanks.body, '<a href="https://council.example/privacy">Privacy policy</a>', 'the footer links the privacy policy')
})

t.test('a form post with a bad address gets the form back with an error summary linked to the field', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'jane@', name: 'Jane' }) })
  t.equal(res.statusCode, 400)
  t.match(res.body, /<title>Error: Sign up for emails – Policy Notes/)
  t.match(res.body, /<div class="error-summary" role="alert"[^>]*>\s*<h2 id="error-summary-title">There is a problem<\/h2>\s*<ul><li><a href="#email">Enter the part after the @/)
  t.match(res.body, /<input type="email" id="email"[^>]*value="jane@" aria-describedby="email-error" aria-invalid="true">/)
  t.match(res.body, 'value="Jane"')
})

t.test('an unknown or expired link offers a form that asks for a new confirmation link', async (t) => {
  const { app, smtp, clock } = await buildTestApp(t)
  const unknown = await app.inject({ method: 'POST', url: `/confirm/${'A'.repeat(43)}`, headers: html })
  t.equal(unknown.statusCode, 404)
  t.match(unknown.body, '<h1>This link does not work</h1>')
  t.match(unknown.body, /<form method="post" action="\/subscribe" novalidate>[\s\S]*Send me a new link/)
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'late@example.org' }) })
  const [mail] = await smtp.waitFor(1)
  const path = new URL(/https:\/\/news\.example\.org\/confirm\/\S+/.exec(mail.parsed.text ?? '')![0]).pathname
  clock.advance(73 * 3_600_000)
  const expired = await app.inject({ method: 'POST', url: path, headers: html })
  t.equal(expired.statusCode, 410)
  t.match(expired.body, '<h1>This link has expired</h1>')
  t.match(expired.body, 'Send me a new link')
})

t.test('unknown addresses get an HTML 404 page for browsers and JSON for scripts', async (t) => {
  const { app } = await buildTestApp(t)
  const page = await app.inject({ url: '/nowhere', headers: html })
  t.equal(page.statusCode, 404)
  t.match(page.body, '<h1>Page not found</h1>')
  t.match(page.body, '<a href="/">Go to the sign-up page</a>')
  const api = await app.inject({ url: '/nowhere', headers: { accept: 'application/json' } })
  t.same(api.json(), { error: 'not_found', message: 'There is nothing at this address.' })
})
