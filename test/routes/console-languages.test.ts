// The staff side in Welsh: the console's pages follow the same choice of language as every other page (Accept-Language,
// or the ?lang= switch kept for the visit), with the switch link in the header; the staff JSON API answers its
// messages and validation errors in the request's language, and an import report's problem reasons too.
import t from 'tap'
import { buildTestApp, staff } from '../helpers/app.js'
import { browserFor, signedIn } from '../helpers/console.js'

const welsh = { accept: 'text/html', 'accept-language': 'cy' }

t.test('the login page in Welsh for Accept-Language: cy, with a switch to the English one', async (t) => {
  const { app } = await buildTestApp(t)
  const page = await browserFor(app).request({ url: '/admin/login', headers: welsh })
  t.equal(page.statusCode, 200)
  t.match(page.body, '<html lang="cy">')
  t.match(page.body, '<title>Mewngofnodi staff – Policy Notes</title>')
  t.match(page.body, '<h1>Mewngofnodi staff</h1>')
  t.match(page.body, '<label for="password">Cyfrinair</label>')
  t.match(page.body, '<button type="submit">Mewngofnodi</button>')
  t.match(page.body, '<nav class="lang" aria-label="Iaith"><ul><li><a href="/admin/login?lang=en" lang="en" hreflang="en">English</a></li></ul></nav>')
  const english = await browserFor(app).request({ url: '/admin/login' })
  t.match(english.body, '<h1>Staff sign in</h1>')
  t.match(english.body, '<a href="/admin/login?lang=cy" lang="cy" hreflang="cy">Cymraeg</a>', 'English pages link to the Welsh ones')
})

t.test('?lang=cy puts the console in Welsh for the rest of the visit: navigation, headings, table headers, counts', async (t) => {
  const { app, database } = await buildTestApp(t)
  const owner = await signedIn(app, database, 'owner')
  const page = await owner.request({ url: '/admin/subscribers?lang=cy' })
  t.equal(page.statusCode, 200)
  t.match(page.body, '<html lang="cy">')
  t.match(page.body, '<h1>Tanysgrifwyr</h1>')
  t.match(page.body, '<nav class="console-nav" aria-label="Consol staff">')
  t.match(page.body, 'Wedi mewngofnodi fel owner@staff.example.org (perchennog).')
  t.match(page.body, '<button type="submit" class="secondary">Allgofnodi</button>')
  t.match(page.body, '<h2 id="results">Does dim un tanysgrifiwr yn cyfateb</h2>')
  t.match(page.body, '<a href="/admin/subscribers?lang=en" lang="en" hreflang="en">English</a>')
  // The cookie keeps the choice: the next page, without ?lang=, is Welsh too.
  owner.cookies.set('joinlist_lang', 'cy')
  const keys = await owner.request({ url: '/admin/keys' })
  t.match(keys.body, '<h1>Allweddi API</h1>')
  t.match(keys.body, '<option value="viewer" selected>gwyliwr</option>', 'role names in Welsh, values unchanged')
  const mail = await owner.request({ url: '/admin/mail' })
  t.match(mail.body, '<h1>E-bost</h1>')
  const dashboard = await owner.request({ url: '/admin' })
  t.match(dashboard.body, '<html lang="cy">')
  t.match(dashboard.body, 'Dangosfwrdd tanysgrifwyr')
  t.notMatch(dashboard.body, 'Subscribers dashboard')
})

t.test('staff JSON errors and validation messages come back in Welsh for Accept-Language: cy', async (t) => {
  const { app } = await buildTestApp(t)
  const headers = { ...staff, accept: 'application/json', 'accept-language': 'cy' }
  const tooMany = await app.inject({ url: '/admin/api/subscribers?limit=500', headers })
  t.equal(tooMany.statusCode, 400)
  t.same(tooMany.json(), { error: 'invalid_field', message: 'Rhaid i limit fod yn 100 ar y mwyaf.', field: 'limit' })
  const english = await app.inject({ url: '/admin/api/subscribers?limit=500', headers: { ...staff, accept: 'application/json' } })
  t.equal(english.json().message, 'limit must be at most 100.', 'English stays as it was')
  const noList = await app.inject({ method: 'PATCH', url: '/admin/api/lists/nope', headers, payload: { name: 'X' } })
  t.equal(noList.statusCode, 404)
  t.equal(noList.json().message, 'Does dim rhestr gyda\'r slug "nope".')
  const outsider = await app.inject({ url: '/admin/api/subscribers', headers: { accept: 'application/json', 'accept-language': 'cy' } })
  t.equal(outsider.statusCode, 401)
  t.match(outsider.json().message, /^Staff yn unig: mewngofnodwch yn \/admin\/login/)
  const file = 'email,status\njane@example.org,maybe\n'
  const imported = await app.inject({ method: 'POST', url: '/admin/api/imports?list=main&dryRun=true', headers: { ...headers, 'content-type': 'text/csv' }, payload: file })
  t.equal(imported.statusCode, 200)
  t.same(imported.json().problems, [{ line: 2, column: 'status', reason: 'nid yw "maybe" yn statws: defnyddiwch confirmed, pending neu unsubscribed' }], 'an import report\'s reasons')
  const empty = await app.inject({ method: 'POST', url: '/admin/api/imports?list=main', headers: { ...headers, 'content-type': 'text/csv' }, payload: 'name\nJane\n' })
  t.equal(empty.statusCode, 400)
  t.equal(empty.json().message, 'Does dim colofn e-bost yn y llinell pennawd (colofnau a gafwyd: "name"). Rhowch yr enw "email" neu "Email Address" arni. Ni fewnforiwyd dim.')
})
