// The mails as they arrive over SMTP: exactly one of each single-instance header (RFC 5322 §3.6), the list headers
// only on the welcome mail (RFC 2369, RFC 8058), Auto-Submitted (RFC 3834), and a well-formed MIME tree (RFC 2046).
import t from 'tap'
import { mailSettings, welcomeMail } from '../../src/mail/messages.js'
import { rawMessage } from '../../src/mail/samples.js'
import { buildTestApp, type TestApp, testConfig } from '../helpers/app.js'
import { countOf, headerFields, linksOf, mimeTree, valueOf } from '../helpers/mail.js'
import { signUpAndConfirm } from '../helpers/flow.js'
import { waitForMailTo } from '../helpers/smtp.js'

const SINGLE = ['From', 'To', 'Date', 'Subject', 'Message-ID', 'MIME-Version', 'Auto-Submitted']

/** Signs up, confirms from the mail, and returns both mails as they arrived. */
async function confirmationAndWelcome (ctx: TestApp, { email, ...extra }: Record<string, string>) {
  const confirmation = await signUpAndConfirm(ctx, email, extra)
  return { confirmation, welcome: await waitForMailTo(ctx.smtp, email, 2) }
}

t.test('each mail has exactly one From, To, Date, Subject and Message-ID @ the sending domain, and is auto-generated', async (t) => {
  const ctx = await buildTestApp(t)
  const { confirmation, welcome } = await confirmationAndWelcome(ctx, { email: 'ann@example.org', name: 'Ann' })
  for (const [kind, mail] of [['confirmation', confirmation], ['welcome', welcome]] as const) {
    for (const name of SINGLE) t.equal(countOf(mail.raw, name), 1, `${kind}: one ${name}`)
    t.match(valueOf(mail.raw, 'Message-ID'), /^<[^@<>\s]+@mail\.example\.org>$/, `${kind}: Message-ID @ the From domain`)
    t.equal(valueOf(mail.raw, 'Auto-Submitted'), 'auto-generated', `${kind}: RFC 3834`)
    t.equal(valueOf(mail.raw, 'From'), 'Policy Notes <news@mail.example.org>')
    // The confirmation mail goes to an unconfirmed address: nothing the sign-up typed, not even a display name.
    t.equal(valueOf(mail.raw, 'To'), kind === 'welcome' ? 'Ann <ann@example.org>' : 'ann@example.org')
    t.equal(countOf(mail.raw, 'Reply-To'), 0, `${kind}: no Reply-To unless REPLY_TO is set`)
    t.equal(countOf(mail.raw, 'Bcc') + countOf(mail.raw, 'Cc'), 0)
  }
  t.equal(confirmation.parsed.subject, 'Confirm your subscription to Policy Notes')
  t.equal(welcome.parsed.subject, 'Welcome to Policy Notes')
})

t.test('the confirmation mail carries no list headers; the welcome mail one List-Unsubscribe with one https URL and the one-click header', async (t) => {
  const ctx = await buildTestApp(t)
  const { confirmation, welcome } = await confirmationAndWelcome(ctx, { email: 'bob@example.org' })
  t.same(headerFields(confirmation.raw).filter((h) => /^list-/i.test(h.name)), [], 'a sign-up confirmation is transactional: no List-* headers')
  t.notMatch(confirmation.parsed.text ?? '', /unsubscribe/i, 'and no newsletter wording')

  t.equal(countOf(welcome.raw, 'List-Unsubscribe'), 1)
  t.equal(countOf(welcome.raw, 'List-Unsubscribe-Post'), 1)
  t.equal(valueOf(welcome.raw, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click')
  const uris = [...valueOf(welcome.raw, 'List-Unsubscribe')!.matchAll(/<([^>]+)>/g)].map((m) => m[1])
  t.equal(uris.length, 1, 'only the https URL without UNSUBSCRIBE_MAILTO')
  t.match(uris[0], /^https:\/\/news\.example\.org\/unsubscribe\/[A-Za-z0-9_.-]+$/)
  t.equal(valueOf(welcome.raw, 'List-Id'), '"Policy Notes" <policy-notes.mail.example.org>', 'RFC 2919 List-Id')
  t.ok(linksOf(welcome).text.includes(uris[0]), 'the same link is visible in the body, as Gmail and Yahoo ask of bulk senders')
  t.match(String(welcome.parsed.html), />unsubscribe<\/a>/, 'a visible unsubscribe link in the HTML')
})

t.test('with UNSUBSCRIBE_MAILTO and REPLY_TO: one List-Unsubscribe holding the https URL then the mailto, and one Reply-To', async (t) => {
  const ctx = await buildTestApp(t, { UNSUBSCRIBE_MAILTO: 'leave@mail.example.org', REPLY_TO: 'Policy desk <desk@example.org>' })
  const { confirmation, welcome } = await confirmationAndWelcome(ctx, { email: 'cy@example.org' })
  t.equal(countOf(welcome.raw, 'List-Unsubscribe'), 1)
  const uris = [...valueOf(welcome.raw, 'List-Unsubscribe')!.matchAll(/<([^>]+)>/g)].map((m) => m[1])
  t.equal(uris.length, 2)
  t.match(uris[0], /^https:\/\/news\.example\.org\/unsubscribe\//, 'the https URL first')
  t.equal(uris[1], 'mailto:leave@mail.example.org?subject=unsubscribe')
  for (const mail of [confirmation, welcome]) {
    t.equal(countOf(mail.raw, 'Reply-To'), 1)
    t.equal(valueOf(mail.raw, 'Reply-To'), 'Policy desk <desk@example.org>')
  }
})

t.test('each mail is multipart/alternative with text/plain first and HTML last, and every link is in both parts', async (t) => {
  const ctx = await buildTestApp(t)
  const { confirmation, welcome } = await confirmationAndWelcome(ctx, { email: 'dee@example.org', name: 'Dee' })
  for (const mail of [confirmation, welcome]) {
    const tree = mimeTree(mail.raw)
    t.equal(tree.type, 'multipart/alternative')
    t.same(tree.children.map((c) => c.type), ['text/plain', 'text/html'])
    const links = linksOf(mail)
    t.ok(links.html.length > 0)
    t.same([...links.html].sort(), [...links.text].sort(), 'the same links in the text and the HTML part')
    t.notMatch(String(mail.parsed.html), /<img[^>]+src="?(https?:)?\/\//i, 'no external images')
    t.notMatch(String(mail.parsed.html), /<script|<link /i)
    t.ok((mail.parsed.text ?? '').length > 100, 'a real text alternative, not a stub')
  }
})

t.test('a subscriber name with markup is escaped in the HTML and stays inside the To header', async (t) => {
  const ctx = await buildTestApp(t)
  const name = '<b>Eve</b> "Q", & Co'
  // The name is in the welcome mail only: the confirmation mail carries nothing the sign-up typed.
  const { welcome } = await confirmationAndWelcome(ctx, { email: 'eve@example.org', name })
  const body = String(welcome.parsed.html)
  t.notMatch(body, /<b>Eve<\/b>/, 'never raw markup')
  t.match(body, /Hello &lt;b&gt;Eve&lt;\/b&gt; &quot;Q&quot;, &amp; Co,/)
  t.match(welcome.parsed.text ?? '', 'Hello <b>Eve</b> "Q", & Co,', 'the text part shows it as typed')
  t.equal(countOf(welcome.raw, 'To'), 1)
  t.same(welcome.envelope.to, ['eve@example.org'])
  const to = welcome.parsed.to as { value: Array<{ name: string, address: string }> }
  t.same(to.value, [{ name, address: 'eve@example.org' }], 'one recipient, the name quoted as a display name')
})

t.test('a name carrying CR/LF (had it got past the form) cannot create a header or a line in the mail', async (t) => {
  const settings = mailSettings(testConfig())
  const message = welcomeMail({ ...settings, to: { address: 'x@example.org', name: 'x\r\nBcc: a@evil.example' }, messageId: '<n@mail.example.org>' },
    'https://news.example.org/unsubscribe/abc')
  const raw = (await rawMessage(message)).toString('utf8')
  t.equal(countOf(raw, 'Bcc'), 0)
  t.equal(countOf(raw, 'To'), 1)
  t.match(String(message.text), /^Hello x Bcc: a@evil\.example,\n/, 'the break became a space')
})
