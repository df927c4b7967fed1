// Welsh beside English over HTTP: picked by Accept-Language or the switch link (kept for the visit), stored with the
// sign-up, and every later mail to that subscriber in it; JSON messages and validation errors too.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildTestApp, form, json, staff } from '../helpers/app.js'
import { waitForMailTo } from '../helpers/smtp.js'
import { linkIn, pathOf } from '../helpers/mail.js'

const html = { accept: 'text/html' }

t.test('Accept-Language: cy gets Welsh pages, with a link to the English one', async (t) => {
  const { app } = await buildTestApp(t)
  const page = await app.inject({ url: '/?source=footer', headers: { ...html, 'accept-language': 'cy-GB,cy;q=0.9,en;q=0.5' } })
  t.match(page.body, '<html lang="cy">')
  t.match(page.body, '<h1>Cofrestru i gael negeseuon e-bost</h1>')
  t.match(page.body, '<label for="email">Cyfeiriad e-bost</label>')
  t.match(page.body, '<nav class="lang" aria-label="Iaith"><ul><li><a href="/?source=footer&amp;lang=en" lang="en" hreflang="en">English</a></li></ul></nav>')
  t.match(page.headers.vary, /Accept-Language/)
  const english = await app.inject({ url: '/', headers: html })
  t.match(english.body, '<a href="/?lang=cy" lang="cy" hreflang="cy">Cymraeg</a>')
})

t.test('?lang=cy is kept for the visit by a session cookie; PAGE_LANGUAGE fixes one language and hides the switch', async (t) => {
  const { app } = await buildTestApp(t)
  const chosen = await app.inject({ url: '/?lang=cy', headers: html })
  const cookie = String(chosen.headers['set-cookie'])
  t.match(cookie, /^joinlist_lang=cy; Path=\/; SameSite=Lax; HttpOnly; Secure$/, 'a session cookie: no Expires')
  const next = await app.inject({ url: '/subscribe/thanks', headers: { ...html, cookie: 'joinlist_lang=cy' } })
  t.match(next.body, '<h1>Gwiriwch eich e-bost</h1>')
  const unknown = await app.inject({ url: '/?lang=xx', headers: html })
  t.notOk(unknown.headers['set-cookie'], 'an unknown language is ignored')
  t.match(unknown.body, '<html lang="en">')

  const fixed = await buildTestApp(t, { PAGE_LANGUAGE: 'cy' })
  const page = await fixed.app.inject({ url: '/?lang=en', headers: { ...html, 'accept-language': 'en' } })
  t.match(page.body, '<html lang="cy">')
  t.notMatch(page.body, 'class="lang"')
})

t.test('a Welsh sign-up gets its confirmation and welcome mails in Welsh; an English one in English', async (t) => {
  const { app, smtp } = await buildTestApp(t, { FORM_MIN_SECONDS: '0' })
  const posted = await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'siân@example.org'.replace('â', 'a'), name: 'Siân Llŷr' }), headers: { ...form({}).headers, cookie: 'joinlist_lang=cy' } })
  t.equal(posted.statusCode, 303)
  const confirmation = await waitForMailTo(smtp, 'sian@example.org')
  t.equal(confirmation.parsed.subject, 'Cadarnhewch eich tanysgrifiad i Policy Notes')
  t.match(confirmation.raw.toString(), /^Content-Language: cy\r$/m)
  t.match(confirmation.parsed.text, "Mae'r ddolen yn gweithio am 72 awr.")
  t.match(String(confirmation.parsed.html), '<html lang="cy">')
  t.match(String(confirmation.parsed.html), 'Pwyswch y botwm i gadarnhau eich tanysgrifiad', 'the Welsh preheader')
  // The confirm page follows the visitor's browser, the mails follow the sign-up.
  const confirmPath = pathOf(linkIn(confirmation, '/confirm/'))
  const page = await app.inject({ url: confirmPath, headers: { ...html, 'accept-language': 'cy' } })
  t.match(page.body, 'Pwyswch y botwm i gadarnhau bod s***@example.org eisiau')
  await app.inject({ method: 'POST', url: confirmPath, headers: html })
  const welcome = await waitForMailTo(smtp, 'sian@example.org', 2)
  t.equal(welcome.parsed.subject, 'Croeso i Policy Notes')
  t.match(welcome.parsed.text, 'Helo Siân Llŷr,')

  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'jane@example.org' }) })
  const english = await waitForMailTo(smtp, 'jane@example.org')
  t.equal(english.parsed.subject, 'Confirm your subscription to Policy Notes')
  t.match(english.raw.toString(), /^Content-Language: en\r$/m)
})

t.test('JSON answers and validation errors are in the language asked for (Accept-Language or the body\'s lang)', async (t) => {
  const { app } = await buildTestApp(t)
  const accepted = await app.inject({ method: 'POST', url: '/subscribe', payload: { email: 'cy@example.org', lang: 'cy' }, headers: { accept: 'application/json' } })
  t.equal(accepted.statusCode, 202)
  t.match(accepted.json().message, /^Diolch!/)
  const bad = await app.inject({ method: 'POST', url: '/subscribe', payload: { email: 'jane@' }, headers: { accept: 'application/json', 'accept-language': 'cy' } })
  t.equal(bad.statusCode, 400)
  t.same(bad.json(), { error: 'invalid_field', message: 'Rhowch y rhan ar ôl yr @ yn y cyfeiriad e-bost, fel enghraifft.cymru.', field: 'email' })
  const badEn = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'jane@' }) })
  t.equal(badEn.json().message, 'Enter the part after the @ in the email address, such as example.com.')
  const missing = await app.inject({ url: '/nowhere', headers: { accept: 'application/json', 'accept-language': 'cy' } })
  t.same(missing.json(), { error: 'not_found', message: 'Does dim byd yn y cyfeiriad hwn.' })
})

t.test('the consent wording is in the page\'s language, and a sign-up records the version its page showed', async (t) => {
  const { app, database } = await buildTestApp(t, { FORM_MIN_SECONDS: '0' })
  const welsh = await app.inject({ url: '/?lang=cy', headers: html })
  t.match(welsh.body, '<p class="consent">Rwy&#39;n cytuno i gael negeseuon e-bost gan Policy Notes.')
  await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'cymraeg@example.org' }), headers: { ...form({}).headers, cookie: 'joinlist_lang=cy' } })
  await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'english@example.org' }) })
  const rows = await database.rows<{ email: string, text: string, ledger: string }>(sql`
    SELECT s.email, c.text, e.details->>'consentTextVersion' AS ledger
    FROM subscribers s JOIN consent_texts c ON c.version = s.consent_text_version
    JOIN consent_events e ON e.subscriber_id = s.id AND e.type = 'signup' ORDER BY s.email`)
  t.match(rows, [
    { email: 'cymraeg@example.org', text: /^Rwy'n cytuno i gael negeseuon e-bost gan Policy Notes\./ },
    { email: 'english@example.org', text: /^I agree to receive emails from Policy Notes\./ }
  ])
  t.not(rows[0].ledger, rows[1].ledger, 'the ledger points to each version')

  const own = await buildTestApp(t, { CONSENT_TEXT: 'Yes, send me the newsletter.' })
  const page = await own.app.inject({ url: '/?lang=cy', headers: html })
  t.match(page.body, '<p class="consent">Yes, send me the newsletter.', 'CONSENT_TEXT is shown as set, in every language')
})

t.test('CONSENT_TEXT_CY is the Welsh wording: the Welsh form shows it and a Welsh sign-up\'s ledger records it', async (t) => {
  const { app, database } = await buildTestApp(t, { FORM_MIN_SECONDS: '0', CONSENT_TEXT: 'Yes, send me the newsletter.', CONSENT_TEXT_CY: 'Ydw, anfonwch y cylchlythyr ataf.' })
  const welsh = await app.inject({ url: '/?lang=cy', headers: html })
  t.match(welsh.body, '<p class="consent">Ydw, anfonwch y cylchlythyr ataf.')
  const english = await app.inject({ url: '/', headers: html })
  t.match(english.body, '<p class="consent">Yes, send me the newsletter.', 'a language without its own falls back to CONSENT_TEXT')
  await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'cymraeg@example.org' }), headers: { ...form({}).headers, cookie: 'joinlist_lang=cy' } })
  await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'english@example.org' }) })
  const rows = await database.rows<{ email: string, text: string }>(sql`
    SELECT s.email, c.text FROM consent_events e JOIN subscribers s ON s.id = e.subscriber_id
    JOIN consent_texts c ON c.version = (e.details->>'consentTextVersion')::int
    WHERE e.type = 'signup' ORDER BY s.email`)
  t.same(rows, [
    { email: 'cymraeg@example.org', text: 'Ydw, anfonwch y cylchlythyr ataf.' },
    { email: 'english@example.org', text: 'Yes, send me the newsletter.' }
  ])
})

t.test('with several lists, the choice, the mails\' preference link, the preference page and a list\'s unsubscribe page are in Welsh', async (t) => {
  const { app, smtp } = await buildTestApp(t, { FORM_MIN_SECONDS: '0' })
  const created = await app.inject({ method: 'POST', url: '/admin/api/lists', headers: staff, payload: { slug: 'events', name: 'Event invitations' } })
  t.equal(created.statusCode, 201)
  const welsh = { ...html, 'accept-language': 'cy' }
  const page = await app.inject({ url: '/', headers: welsh })
  t.match(page.body, '<legend>Pa negeseuon e-bost hoffech chi eu cael?</legend>')
  t.match(page.body, '<p class="hint" id="lists-hint">Dewiswch un neu fwy.</p>')

  const none = await app.inject({ method: 'POST', url: '/subscribe', payload: 'email=none%40example.org&lists_shown=1', headers: { ...form({}).headers, ...welsh } })
  t.equal(none.statusCode, 400)
  t.match(none.body, 'Dewiswch o leiaf un rhestr i ymuno â hi.')

  const posted = await app.inject({ method: 'POST', url: '/subscribe', payload: 'email=rhys%40example.org&lists_shown=1&lists=main&lists=events', headers: { ...form({}).headers, cookie: 'joinlist_lang=cy' } })
  t.equal(posted.statusCode, 303)
  const confirmation = await waitForMailTo(smtp, 'rhys@example.org')
  t.match(confirmation.parsed.text, "Dewiswch pa rai o'n rhestrau rydych chi arnyn nhw:")
  t.match(String(confirmation.parsed.html), "Dewiswch pa rai o'n rhestrau rydych chi arnyn nhw</a>")
  const manage = pathOf(linkIn(confirmation, '/manage/'))
  const token = manage.split('/')[2]

  const prefs = await app.inject({ url: manage, headers: welsh })
  t.equal(prefs.statusCode, 200)
  t.match(prefs.body, '<h1>Eich tanysgrifiadau</h1>')
  t.match(prefs.body, '<button type="submit" name="all" value="1" class="secondary">Gadael pob rhestr</button>')
  t.match(prefs.body, `<a href="/unsubscribe/${token}/erase">Dad-danysgrifio a dileu fy nata</a>`, 'deleting is a step of its own')
  const refused = await app.inject({ method: 'POST', url: manage, ...json({ lists: ['nope'] }), headers: { ...json({}).headers, 'accept-language': 'cy' } })
  t.equal(refused.statusCode, 400)
  t.match(refused.json().message, "Does dim modd ymuno â'r rhestrau hyn yma: nope.")

  const leave = await app.inject({ url: `/unsubscribe/${token}?list=events&lang=cy`, headers: html })
  t.match(leave.body, '<html lang="cy">', '?lang= is kept beside ?list=')
  t.match(leave.body, 'o’r rhestr “Event invitations” at r***@example.org.')
  t.match(leave.body, 'Gadael pob rhestr')
  t.match(leave.body, `<a href="/manage/${token}">Dewis pa restrau rydych chi arnyn nhw</a>`)
})
