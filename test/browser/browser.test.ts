// In a real browser (Debian's Chromium): sign up with JavaScript on and off, confirm and unsubscribe from the
// mails that arrived over SMTP, sign up from another origin with the embed snippet, and axe every page.
import t from 'tap'
import { sql } from 'drizzle-orm'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { buildApp } from '../../src/app.js'
import { smtpMailer } from '../../src/mail/transport.js'
import { embedSnippet } from '../../src/pages/embed.js'
import { messagesIn } from '../../src/messages/index.js'
import { ADMIN_TOKEN, testClock, testConfig } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { startSmtp, waitForMailTo, type ReceivedMail } from '../helpers/smtp.js'
import { freePort } from '../helpers/process.js'
import { axe, withBrowser, launch, screenshot, staticSite } from '../helpers/browser.js'

await withBrowser(t, run)

async function run () {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  // The snippet is rendered with the real base URL, as /embed would show it.
  const snippetCtx = { m: messagesIn('en'), languages: [], brand: { listName: 'Policy Notes', accentColor: '#1d4ed8', consentText: 'I agree to receive emails from Policy Notes.', privacyUrl: 'https://council.example/privacy' } }
  const allowedSite = await staticSite(embedSnippet(snippetCtx, base, 'council-footer'))
  const otherSite = await staticSite(embedSnippet(snippetCtx, base, 'unlisted-site'))
  t.teardown(() => { allowedSite.server.close(); otherSite.server.close() })

  const smtp = await startSmtp(t)
  const { database } = await testDatabase(t)
  const config = testConfig({
    SMTP_URL: smtp.url,
    PUBLIC_URL: base,
    ALLOWED_ORIGINS: new URL(allowedSite.url).origin,
    PRIVACY_URL: 'https://council.example/privacy',
    CONSENT_TEXT: 'I agree to receive emails from Policy Notes.',
    // Other helpers' abuse limits must not get in the way of one visitor clicking through every page.
    RATE_LIMIT_SUBSCRIBE_MAX: '1000',
    FORM_MIN_SECONDS: '0'
  })
  const app = await buildApp(config, { database, now: testClock().now, mailer: smtpMailer(smtp.url, 2), logger: false })
  // Error pages that a visitor meets only when things go wrong, reachable here on purpose.
  app.get('/test/too-many', async () => { throw Object.assign(new Error('slow down'), { statusCode: 429 }) })
  app.get('/test/broken', async () => { throw new Error('a bug') })
  await app.listen({ port, host: '127.0.0.1' })
  t.teardown(() => app.close())

  const browser: Browser = await launch()
  t.teardown(() => browser.close())

  const linkFrom = (mail: ReceivedMail, path: string) => {
    const m = new RegExp(`${base}${path}[^\\s<>"]+`).exec(mail.parsed.text ?? '')
    if (!m) throw new Error(`no ${path} link in: ${mail.parsed.text}`)
    return m[0]
  }
  const mailTo = (address: string, n = 1) => waitForMailTo(smtp, address, n)
  const newPage = async (opts: { js?: boolean, width?: number, staff?: boolean } = {}): Promise<{ context: BrowserContext, page: Page }> => {
    const context = await browser.newContext({
      javaScriptEnabled: opts.js ?? true,
      viewport: { width: opts.width ?? 320, height: 640 },
      httpCredentials: opts.staff ? { username: 'staff', password: ADMIN_TOKEN } : undefined
    })
    context.setDefaultTimeout(10_000)
    t.teardown(() => context.close())
    return { context, page: await context.newPage() }
  }

  /** Checks the page the browser is on: zero axe violations, one h1, a lang; screenshots at 320 px and desktop. */
  const audit = async (page: Page, name: string, lang = 'en') => {
    for (const width of [320, 1280]) {
      await page.setViewportSize({ width, height: width === 320 ? 640 : 800 })
      const { violations, passes } = await axe(page)
      t.same(violations, [], `${name} at ${width} px: no WCAG 2.2 AA violations`)
      t.ok(passes > 5, `${name}: axe ran (${passes} rules passed)`)
      await screenshot(page, `${name}-${width}`)
      // WCAG 1.4.10 reflow: nothing wider than the window (wide tables scroll inside their own region).
      const overflow = await page.evaluate(() => {
        const limit = document.documentElement.clientWidth
        return [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > limit + 1)
          .filter((e) => !e.closest('.table-scroll, pre')).map((e) => `<${e.tagName.toLowerCase()}> ${(e.textContent ?? '').slice(0, 40)}`)
      })
      t.same(overflow, [], `${name} at ${width} px: nothing wider than the window`)
    }
    t.equal(await page.locator('h1').count(), 1, `${name}: one h1`)
    t.equal(await page.getAttribute('html', 'lang'), lang, `${name}: lang`)
  }

  t.test('with JavaScript off, a visitor signs up, confirms from the mail and sees "You\'re subscribed"', async (t) => {
    const { page } = await newPage({ js: false })
    await page.goto(`${base}/`)
    await page.getByLabel('Email address').fill('nojs@example.org')
    await page.getByLabel('Name (optional)').fill('No Script')
    await page.getByRole('button', { name: 'Subscribe' }).click()
    await page.waitForURL(`${base}/subscribe/thanks`)
    t.equal(await page.locator('h1').textContent(), 'Check your email')
    const mail = await mailTo('nojs@example.org')
    await page.goto(linkFrom(mail, '/confirm/'))
    await page.getByRole('button', { name: 'Confirm subscription' }).click()
    await page.waitForLoadState()
    t.equal(await page.locator('h1').textContent(), "You're subscribed")
  })

  t.test('with JavaScript on, a visitor signs up, confirms, then unsubscribes from the welcome mail; every page passes axe', async (t) => {
    const { page } = await newPage()
    await page.goto(`${base}/`)
    await audit(page, 'signup')
    await page.getByLabel('Email address').fill('jane@example.org')
    await page.getByRole('button', { name: 'Subscribe' }).click()
    await page.waitForURL(`${base}/subscribe/thanks`)
    await audit(page, 'thanks')
    const confirmation = await mailTo('jane@example.org')
    await page.goto(linkFrom(confirmation, '/confirm/'))
    await audit(page, 'confirm')
    await page.getByRole('button', { name: 'Confirm subscription' }).click()
    await page.getByRole('heading', { name: "You're subscribed" }).waitFor()
    await audit(page, 'confirmed')
    const welcome = await mailTo('jane@example.org', 2)
    await page.goto(linkFrom(welcome, '/unsubscribe/'))
    await audit(page, 'unsubscribe')
    await page.getByRole('button', { name: 'Unsubscribe', exact: true }).click()
    await page.getByRole('heading', { name: "You're unsubscribed" }).waitFor()
    t.match(await page.textContent('main'), /j\*\*\*@example\.org won't get emails from this list again/)
    await audit(page, 'unsubscribed')
    // The same link again: it knows the subscriber has left; then the erasure, a step of its own.
    await page.goto(linkFrom(welcome, '/unsubscribe/'))
    await page.getByRole('heading', { name: "You've already left" }).waitFor()
    await audit(page, 'already-left')
    await page.goto(linkFrom(welcome, '/unsubscribe/') + '/erase')
    await audit(page, 'erase-step')
    await page.getByRole('button', { name: 'Delete my data' }).click()
    await page.getByRole('heading', { name: 'Your data is deleted' }).waitFor()
    await audit(page, 'erased')
  })

  t.test('in Welsh, chosen with the switch link: sign up, a typo suggestion, the thanks page and the mail, all accessible', async (t) => {
    // Our pages run no script (CSP script-src 'none'); JavaScript is on only for axe.
    const { page } = await newPage()
    await page.goto(`${base}/`)
    await page.getByRole('link', { name: 'Cymraeg' }).click()
    await audit(page, 'signup-cy', 'cy')
    await page.getByLabel('Cyfeiriad e-bost').fill('welsh@gmial.con')
    await page.getByRole('button', { name: 'Tanysgrifio' }).click()
    await page.getByRole('heading', { name: 'Gwiriwch eich cyfeiriad e-bost' }).waitFor()
    await audit(page, 'suggestion-cy', 'cy')
    await page.getByRole('button', { name: 'Na, cadw welsh@gmial.con' }).click()
    await page.waitForURL(`${base}/subscribe/thanks`)
    t.match(await page.textContent('main'), 'welsh@gmial.con')
    await audit(page, 'thanks-cy', 'cy')
    await page.goto(`${base}/`)
    await page.getByLabel('Cyfeiriad e-bost').fill('welsh@example.org')
    await page.getByRole('button', { name: 'Tanysgrifio' }).click()
    await page.waitForURL(`${base}/subscribe/thanks`)
    const mail = await mailTo('welsh@example.org')
    t.match(mail.parsed.subject, /^Cadarnhewch eich tanysgrifiad/)
    await page.goto(linkFrom(mail, '/confirm/'))
    await audit(page, 'confirm-cy', 'cy')
    await page.getByRole('button', { name: 'Cadarnhau tanysgrifiad' }).click()
    await page.goto(linkFrom(mail, '/confirm/'))
    await page.getByRole('heading', { name: 'Rydych eisoes wedi tanysgrifio' }).waitFor()
    await audit(page, 'already-subscribed-cy', 'cy')
  })

  t.test('a mistyped address gets the error summary, linked to the field, on an accessible page', async (t) => {
    const { page } = await newPage({ js: false })
    await page.goto(`${base}/`)
    await page.getByLabel('Email address').fill('not-an-address')
    await page.getByRole('button', { name: 'Subscribe' }).click()
    await page.getByRole('heading', { name: 'There is a problem' }).waitFor()
    t.match(await page.title(), /^Error:/)
    const summaryLink = page.locator('.error-summary a')
    t.equal(await summaryLink.getAttribute('href'), '#email')
    t.equal(await page.getByLabel('Email address').inputValue(), 'not-an-address', 'what was typed is kept')
    t.match(await page.getByLabel('Email address').getAttribute('aria-describedby'), 'email-error')
    const { page: jsPage } = await newPage()
    await jsPage.goto(`${base}/`)
    await jsPage.getByLabel('Email address').fill('not-an-address')
    await jsPage.getByRole('button', { name: 'Subscribe' }).click()
    await jsPage.getByRole('heading', { name: 'There is a problem' }).waitFor()
    await jsPage.locator('.error-summary a').click()
    t.equal(await jsPage.evaluate(() => document.activeElement?.id), 'email', 'the summary link moves focus to the field')
    await audit(jsPage, 'signup-error')
  })

  t.test('broken links, error pages, the embed page, the docs and the staff dashboard pass axe', async (t) => {
    const { page } = await newPage()
    // A well-formed token that was never issued: the page says so at once, with no button that would fail.
    await page.goto(`${base}/confirm/${'A'.repeat(43)}`)
    await page.getByRole('heading', { name: 'This link does not work' }).waitFor()
    await audit(page, 'invalid-link')
    await page.getByLabel('Email address').fill('again@example.org')
    await page.getByRole('button', { name: 'Send me a new link' }).click()
    await page.waitForURL(`${base}/subscribe/thanks`)
    await mailTo('again@example.org')
    for (const [path, name, status] of [['/no-such-page', 'not-found', 404], ['/test/too-many', 'too-many-requests', 429], ['/test/broken', 'server-error', 500]] as const) {
      const response = await page.goto(`${base}${path}`)
      t.equal(response?.status(), status)
      await audit(page, name)
    }
    await page.goto(`${base}/embed`)
    await audit(page, 'embed')
    await page.goto(`${base}/docs`)
    await audit(page, 'docs')
    // Some history for the chart: 60 days of sign-ups, two in three confirmed.
    await database.rows(sql`INSERT INTO subscribers (email, email_normalized, mailbox, status, signed_up_at, confirmed_at)
      SELECT 'seed' || i || '@example.org', 'seed' || i || '@example.org', 'seed' || i || '@example.org',
        (CASE WHEN i % 3 = 0 THEN 'pending' ELSE 'confirmed' END)::subscriber_status,
        now() - (i % 60) * interval '1 day' - interval '1 hour',
        CASE WHEN i % 3 = 0 THEN NULL ELSE now() - (i % 60) * interval '1 day' END
      FROM generate_series(1, 150) AS i`)
    const { page: staffPage } = await newPage({ staff: true })
    await staffPage.goto(`${base}/admin`)
    t.equal(await staffPage.locator('h1').textContent(), 'Subscribers dashboard')
    await audit(staffPage, 'dashboard')
    await staffPage.goto(`${base}/admin/mail-preview/confirmation`)
    await audit(staffPage, 'mail-preview')
    const { page: anonymous } = await newPage()
    const denied = await anonymous.request.get(`${base}/admin`)
    t.equal(denied.status(), 401, 'no credential: 401')
    t.match(denied.headers()['www-authenticate'], /^Basic /, 'a browser shows its login prompt')
  })

  t.test('from a static page on another origin, the embed snippet signs up inline with JavaScript', async (t) => {
    const { page } = await newPage()
    await page.goto(allowedSite.url)
    await page.getByLabel('Email address').fill('embed-js@example.org')
    await page.getByRole('button', { name: 'Subscribe' }).click()
    await page.getByRole('status').filter({ hasText: 'check your inbox' }).waitFor()
    t.equal(await page.getAttribute('[data-joinlist-status]', 'data-state'), 'success', 'the success state is visible, not only announced')
    t.equal(page.url(), allowedSite.url, 'the visitor stays on the host page')
    t.equal(await page.getByLabel('Email address').inputValue(), '', 'the form is cleared')
    const mail = await mailTo('embed-js@example.org')
    t.ok(linkFrom(mail, '/confirm/'))
    await audit(page, 'embed-host-page')
  })

  t.test('on another origin with JavaScript, a likely typo is questioned inline and the choice sends the form', async (t) => {
    const { page } = await newPage()
    await page.goto(allowedSite.url)
    await page.getByLabel('Email address').fill('embed-typo@gmial.con')
    await page.getByRole('button', { name: 'Subscribe' }).click()
    await page.getByRole('status').filter({ hasText: 'Did you mean embed-typo@gmail.com?' }).waitFor()
    t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Yes, use embed-typo@gmail.com', 'focus on the first choice')
    await audit(page, 'embed-suggestion')
    await page.getByRole('button', { name: 'Yes, use embed-typo@gmail.com' }).click()
    await page.getByRole('status').filter({ hasText: 'check your inbox' }).waitFor()
    t.ok(await mailTo('embed-typo@gmail.com'), 'the corrected address got the mail')
  })

  t.test('from another origin without JavaScript, the embed snippet is an ordinary form post', async (t) => {
    const { page } = await newPage({ js: false })
    await page.goto(allowedSite.url)
    await page.getByLabel('Email address').fill('embed-nojs@example.org')
    await page.getByRole('button', { name: 'Subscribe' }).click()
    await page.waitForURL(`${base}/subscribe/thanks`)
    t.equal(await page.locator('h1').textContent(), 'Check your email')
    t.ok(await mailTo('embed-nojs@example.org'), 'the confirmation mail arrived')
  })

  t.test('from an origin not in ALLOWED_ORIGINS, the script falls back to the form post, which is refused with a page saying where to sign up', async (t) => {
    const { page } = await newPage()
    await page.goto(otherSite.url)
    await page.getByLabel('Email address').fill('embed-unlisted@example.org')
    await page.getByRole('button', { name: 'Subscribe' }).click()
    await page.waitForURL(`${base}/subscribe`)
    t.match(await page.locator('main').textContent(), `can only be sent from ${base}`)
    t.same((await axe(page)).violations, [], 'the refusal page passes axe')
    t.equal(smtp.mails.filter((m) => m.envelope.to.includes('embed-unlisted@example.org')).length, 0, 'nobody was signed up')
  })
}
