// Several lists in a real browser (Debian's Chromium): the checkboxes on the hosted form (with the error summary
// when none is ticked), the preference page from the mail, and the embed snippet's checkboxes signing up inline from
// another origin with JavaScript; axe on each page at 320 and 1280 px.
import t from 'tap'
import type { Browser, Page } from 'playwright-core'
import { buildApp } from '../../src/app.js'
import { smtpMailer } from '../../src/mail/transport.js'
import { embedSnippet } from '../../src/pages/embed.js'
import { messagesIn } from '../../src/messages/index.js'
import { testClock, testConfig } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { startSmtp, waitForMailTo } from '../helpers/smtp.js'
import { freePort } from '../helpers/process.js'
import { axe, withBrowser, launch, staticSite } from '../helpers/browser.js'

await withBrowser(t, run)

async function run () {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const snippetCtx = { m: messagesIn('en'), languages: [], brand: { listName: 'Policy Notes', accentColor: '#1d4ed8', consentText: 'I agree to receive emails from Policy Notes.' } }
  const choice = {
    choice: [{ slug: 'main', name: 'Policy Notes', description: null }, { slug: 'events', name: 'Event invitations', description: null }],
    chosen: ['main']
  }
  const site = await staticSite(embedSnippet(snippetCtx, base, 'footer', choice))
  t.teardown(() => site.server.close())

  const smtp = await startSmtp(t)
  const { database } = await testDatabase(t)
  const config = testConfig({ SMTP_URL: smtp.url, PUBLIC_URL: base, ALLOWED_ORIGINS: new URL(site.url).origin, FORM_MIN_SECONDS: '0', RATE_LIMIT_SUBSCRIBE_MAX: '1000' })
  const app = await buildApp(config, { database, now: testClock().now, mailer: smtpMailer(smtp.url, 2), logger: false })
  await app.listen({ port, host: '127.0.0.1' })
  t.teardown(() => app.close())
  await app.lists.create({ slug: 'events', name: 'Event invitations', description: 'Talks and launches, about once a month.' })

  const browser: Browser = await launch()
  t.teardown(() => browser.close())
  // JavaScript stays on: axe runs in the page. The hosted pages use none anyway.
  const newPage = async (js = true): Promise<Page> => {
    const context = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 320, height: 640 } })
    context.setDefaultTimeout(10_000)
    t.teardown(() => context.close())
    return await context.newPage()
  }
  const audit = async (page: Page, name: string) => {
    for (const width of [320, 1280]) {
      await page.setViewportSize({ width, height: 800 })
      t.same((await axe(page)).violations, [], `${name} at ${width} px: no WCAG 2.2 AA violations`)
    }
  }
  const statuses = async (email: string) => Object.fromEntries((await app.database.rows<{ slug: string, status: string }>(
    (await import('drizzle-orm')).sql`SELECT l.slug, p.status FROM subscriptions p JOIN lists l ON l.id = p.list_id
      JOIN subscribers s ON s.id = p.subscriber_id WHERE s.email = ${email}`)).map((r) => [r.slug, r.status]))

  t.test('the hosted form offers the lists as checkboxes, points to them when none is ticked, and joins the ticked ones', async (t) => {
    const page = await newPage()
    await page.goto(`${base}/`)
    await audit(page, 'form with lists')
    t.ok(await page.getByRole('group', { name: 'Which emails would you like?' }).isVisible())
    t.ok(await page.getByLabel('Policy Notes').isChecked(), 'the default list is ticked')
    await page.getByLabel('Email address').fill('ticks@example.org')
    await page.getByLabel('Policy Notes').uncheck()
    await page.getByRole('button', { name: 'Subscribe' }).click()
    await page.getByRole('link', { name: 'Choose at least one list to join.' }).click()
    t.equal(await page.evaluate(() => document.activeElement?.id), 'lists', 'the error summary leads to the first checkbox')
    await audit(page, 'form with lists, error')
    await page.getByLabel('Event invitations').check()
    await page.getByRole('button', { name: 'Subscribe' }).click()
    await page.waitForURL(`${base}/subscribe/thanks`)
    const mail = await waitForMailTo(smtp, 'ticks@example.org')
    t.match(mail.parsed.subject, /Event invitations/)
    t.same(await statuses('ticks@example.org'), { events: 'pending' })
  })

  t.test('from the mail, the preference page changes the lists', async (t) => {
    const page = await newPage()
    await page.goto(`${base}/`)
    await page.getByLabel('Email address').fill('prefs@example.org')
    await page.getByRole('button', { name: 'Subscribe' }).click()
    const mail = await waitForMailTo(smtp, 'prefs@example.org')
    const manage = new RegExp(`${base}/manage/[^\\s<>"]+`).exec(mail.parsed.text ?? '')![0]
    await page.goto(manage)
    await audit(page, 'preference page')
    t.same(await statuses('prefs@example.org'), { main: 'pending' }, 'opening the page changed nothing')
    await page.getByLabel('Event invitations').check()
    await page.getByRole('button', { name: 'Save my choices' }).click()
    t.ok(await page.getByText('Your choices are saved.').isVisible())
    await audit(page, 'preference page, saved')
    t.same(await statuses('prefs@example.org'), { main: 'confirmed', events: 'confirmed' })
  })

  t.test('the embed snippet with checkboxes signs up inline for the lists ticked', async (t) => {
    const page = await newPage(true)
    await page.goto(site.url)
    await page.getByLabel('Email address').fill('embed-lists@example.org')
    await page.getByLabel('Event invitations').check()
    await page.getByRole('button', { name: 'Subscribe' }).click()
    await page.locator('[data-joinlist-status]').filter({ hasText: 'Thanks' }).waitFor()
    t.equal(page.url(), site.url, 'the visitor stays on the host page')
    await waitForMailTo(smtp, 'embed-lists@example.org')
    t.same(await statuses('embed-lists@example.org'), { main: 'pending', events: 'pending' })
  })
}
