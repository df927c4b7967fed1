// What a newcomer meets: the thanks page naming the typed address, "did you mean …?", links that know their state
// (already subscribed, already left, expired), the erasure's own warning step, a rate-limited form that keeps what
// was typed, copy that reads right with LIST_NAME unset, and mails with a preheader and a short unsubscribe link.
import t from 'tap'
import { buildTestApp, form, json } from '../helpers/app.js'
import { waitForMailTo } from '../helpers/smtp.js'
import { linkIn, pathOf } from '../helpers/mail.js'

const html = { accept: 'text/html' }

t.test('the thanks page names the typed address, offers to correct it, and links back to the allowed site', async (t) => {
  const { app } = await buildTestApp(t, { ALLOWED_ORIGINS: 'https://www.council.example', FORM_MIN_SECONDS: '0' })
  const posted = await app.inject({
    method: 'POST',
    url: '/subscribe',
    payload: new URLSearchParams({ email: 'Jane@Example.org', name: 'Jane', source: 'footer' }).toString(),
    headers: { ...form({}).headers, origin: 'https://www.council.example', referer: 'https://www.council.example/news' }
  })
  t.equal(posted.statusCode, 303)
  t.equal(posted.headers.location, '/subscribe/thanks')
  const cookie = String(posted.headers['set-cookie']).split(';')[0]
  t.notMatch(cookie, /jane|example\.org/i, 'the address is sealed, not readable in the cookie')
  const thanks = await app.inject({ url: '/subscribe/thanks', headers: { ...html, cookie } })
  t.match(thanks.body, 'link to confirm it to Jane@Example.org.')
  t.match(thanks.body, '<a href="https://www.council.example/news">Back to www.council.example</a>')
  t.match(thanks.body, '<a href="/?again=1">Go back and correct it</a>')
  const form2 = await app.inject({ url: '/?again=1', headers: { ...html, cookie } })
  t.match(form2.body, /id="email"[^>]*value="Jane@Example.org"/, 'the address kept')
  t.match(form2.body, /id="name"[^>]*value="Jane"/, 'the name kept')
  const forged = await app.inject({ url: '/subscribe/thanks', headers: { ...html, cookie: `${cookie.slice(0, -4)}AAAA` } })
  t.match(forged.body, 'If the address can join the list', 'a damaged value names nothing')
  const none = await app.inject({ url: '/subscribe/thanks', headers: html })
  t.notMatch(none.body, 'Go back and correct it')
})

t.test('"did you mean …?": nothing is sent until the visitor picks, and they may keep their own spelling', async (t) => {
  const { app, smtp } = await buildTestApp(t, { FORM_MIN_SECONDS: '0' })
  const first = await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'jane@gmial.con', name: 'Jane' }) })
  t.equal(first.statusCode, 200)
  t.match(first.body, 'Did you mean jane@gmail.com?')
  t.match(first.body, /<button type="submit" id="use-suggestion">Yes, use jane@gmail.com<\/button>/)
  t.match(first.body, /<button type="submit" class="secondary" id="keep-typed">No, keep jane@gmial.con<\/button>/)
  const picked = await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'jane@gmail.com', name: 'Jane', checked: '1' }) })
  t.equal(picked.statusCode, 303)
  t.ok(await waitForMailTo(smtp, 'jane@gmail.com'))
  const kept = await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'jane@gmial.con', checked: '1' }) })
  t.equal(kept.statusCode, 303, 'their own spelling is accepted once they chose it')
  const api = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'joe@gmial.con' }) })
  t.equal(api.statusCode, 202, 'the JSON API is not second-guessed unless it asks')
  const asked = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'joe@gmial.con', suggest: '1', lang: 'cy' }) })
  t.equal(asked.statusCode, 200)
  t.same(asked.json(), {
    status: 'check',
    suggestion: 'joe@gmail.com',
    message: "Oeddech chi'n golygu joe@gmail.com?",
    use: 'Ydw, defnyddio joe@gmail.com',
    keep: 'Na, cadw joe@gmial.con'
  }, 'what embed.js shows inline, in the form\'s language')
  const askedFine = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'joe@example.org', suggest: '1' }) })
  t.equal(askedFine.statusCode, 202, 'no typo, no question')
})

t.test('confirm and unsubscribe links say what is true, with the address masked, and GET changes nothing', async (t) => {
  const { app, smtp, clock } = await buildTestApp(t, { FORM_MIN_SECONDS: '0' })
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'state@example.org' }) })
  const confirmPath = pathOf(linkIn(await waitForMailTo(smtp, 'state@example.org'), '/confirm/'))
  const before = await app.inject({ url: confirmPath, headers: html })
  t.match(before.body, 'confirm that s***@example.org wants emails')
  t.match(before.body, '>Confirm subscription</button>')
  await app.inject({ method: 'POST', url: confirmPath, headers: html })
  const used = await app.inject({ url: confirmPath, headers: html })
  t.equal(used.statusCode, 200)
  t.match(used.body, /<h1>You(&#39;|')re already subscribed<\/h1>/)
  t.notMatch(used.body, '<button', 'no button that would do nothing')

  const unsubscribePath = pathOf(linkIn(await waitForMailTo(smtp, 'state@example.org', 2), '/unsubscribe/'))
  const live = await app.inject({ url: unsubscribePath, headers: html })
  t.match(live.body, 'stop emails from this list to s***@example.org')
  t.match(live.body, `<a href="${unsubscribePath}/erase">Unsubscribe and delete my data</a>`, 'erasure is a step of its own')
  await app.inject({ method: 'POST', url: unsubscribePath, headers: html })
  const left = await app.inject({ url: unsubscribePath, headers: html })
  t.match(left.body, /<h1>You(&#39;|')ve already left<\/h1>/)
  t.match(left.body, 's***@example.org is not on this list any more')
  t.notMatch(left.body, '<button')

  const step = await app.inject({ url: `${unsubscribePath}/erase`, headers: html })
  t.match(step.body, '<h1>Delete your data</h1>')
  t.match(step.body, '<li>your email address and name</li>')
  t.match(step.body, '<p class="warning-text">This cannot be undone.</p>')
  t.match(step.body, /<input type="hidden" name="erase" value="1">\s*<button type="submit" class="warning">Delete my data<\/button>/)
  const erased = await app.inject({ method: 'POST', url: unsubscribePath, ...form({ erase: '1' }) })
  t.match(erased.body, '<h1>Your data is deleted</h1>')
  const gone = await app.inject({ url: unsubscribePath, headers: html })
  t.equal(gone.statusCode, 404)
  t.match(gone.body, 'has been deleted or has left the list')

  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'late@example.org' }) })
  const latePath = pathOf(linkIn(await waitForMailTo(smtp, 'late@example.org'), '/confirm/'))
  clock.advance(73 * 3_600_000)
  const expired = await app.inject({ url: latePath, headers: html })
  t.equal(expired.statusCode, 410, 'an expired link says so on GET, before any button')
  t.match(expired.body, 'Confirmation links work for 3 days.')
})

t.test('a rate-limited form post gets the form back with what was typed', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_SUBSCRIBE_MAX: '1', FORM_MIN_SECONDS: '0' })
  await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'one@example.org' }) })
  const limited = await app.inject({ method: 'POST', url: '/subscribe', ...form({ email: 'two@example.org', name: 'Two' }) })
  t.equal(limited.statusCode, 429)
  t.match(limited.body, /Too many sign-ups from your network\. Wait 1 minute and press Subscribe again/)
  t.match(limited.body, /id="email"[^>]*value="two@example.org"/)
  t.match(limited.body, /id="name"[^>]*value="Two"/)
  const api = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'three@example.org' }) })
  t.equal(api.statusCode, 429)
  t.equal(api.json().message, 'Too many requests from your network. Try again in 1 minute.')
})

t.test('with LIST_NAME unset, pages and mails use the language\'s default name and read right', async (t) => {
  const { app, smtp } = await buildTestApp(t, { LIST_NAME: '' })
  const page = await app.inject({ url: '/', headers: html })
  t.match(page.body, '<span>Mailing list</span>')
  t.notMatch(page.body, /Our mailing list|Join /)
  const welsh = await app.inject({ url: '/', headers: { ...html, 'accept-language': 'cy' } })
  t.match(welsh.body, '<span>Rhestr bostio</span>')
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'plain@example.org' }) })
  const mail = await waitForMailTo(smtp, 'plain@example.org')
  t.equal(mail.parsed.subject, 'Confirm your subscription to Mailing list')
  t.notMatch(mail.parsed.text, /the Mailing list mailing list/)
})

t.test('mails: preheader, accent colour and logo, a table button, and the long unsubscribe URL in the text part only', async (t) => {
  const { app, smtp } = await buildTestApp(t, { ACCENT_COLOR: '#005ea5', LOGO_URL: 'https://cdn.council.example/logo.png', FORM_MIN_SECONDS: '0' })
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'design@example.org' }) })
  const confirmation = await waitForMailTo(smtp, 'design@example.org')
  const body = String(confirmation.parsed.html)
  t.match(body, /<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">Press the button to confirm your subscription to Policy Notes\./)
  t.match(body, /<td align="center" bgcolor="#005ea5" style="background:#005ea5;border-radius:4px;padding:12px 24px">\s*<a href="https:\/\/news\.example\.org\/confirm\/[^"]+"/)
  t.match(body, '<img src="https://cdn.council.example/logo.png" alt="Policy Notes"')
  t.match(body, '<meta name="color-scheme" content="light dark">')
  t.match(body, '@media (prefers-color-scheme: dark)')
  await app.inject({ method: 'POST', url: pathOf(linkIn(confirmation, '/confirm/')), headers: html })
  const welcome = await waitForMailTo(smtp, 'design@example.org', 2)
  const url = linkIn(welcome, '/unsubscribe/')
  t.match(welcome.parsed.text, url, 'the text part shows the URL')
  const welcomeHtml = String(welcome.parsed.html)
  t.match(welcomeHtml, `<a class="link" href="${url}" style="color:#005ea5">unsubscribe</a>`, 'HTML has a short labelled link')
  t.equal(welcomeHtml.split(url).length - 1, 1, 'the URL appears in HTML only as the link target')
})
