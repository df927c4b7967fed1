// The staff console in a real browser (Debian's Chromium), with pages that run no script: an owner signs in through the form,
// searches, opens a subscriber, erases them through the confirmation step and signs out; a viewer is refused an
// erase; every console page has zero axe (WCAG 2.2 AA) violations at 320 and 1280 px, in English and in Welsh.
import t from 'tap'
import { sql } from 'drizzle-orm'
import type { Browser, Page } from 'playwright-core'
import { buildApp } from '../../src/app.js'
import { addStaff, issuePasswordLink, type StaffRole } from '../../src/domain/staff.js'
import { smtpMailer } from '../../src/mail/transport.js'
import { testClock, testConfig } from '../helpers/app.js'
import { STAFF_PASSWORD } from '../helpers/console.js'
import { testDatabase } from '../helpers/database.js'
import { startSmtp } from '../helpers/smtp.js'
import { freePort } from '../helpers/process.js'
import { axe, withBrowser, launch, screenshot } from '../helpers/browser.js'

await withBrowser(t, run)

async function run () {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const smtp = await startSmtp(t)
  const { database } = await testDatabase(t)
  const config = testConfig({ SMTP_URL: smtp.url, PUBLIC_URL: base, FORM_MIN_SECONDS: '0' })
  const app = await buildApp(config, { database, now: testClock().now, mailer: smtpMailer(smtp.url, 2), logger: false })
  await app.listen({ port, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const browser: Browser = await launch()
  t.teardown(() => browser.close())

  await database.rows(sql`
    INSERT INTO subscribers (email, email_normalized, mailbox, name, status, source, signed_up_at, signup_ip, signup_user_agent)
    SELECT 'reader' || g || '@example.org', 'reader' || g || '@example.org', 'reader' || g || '@example.org', 'Reader ' || g,
      (ARRAY['pending', 'confirmed', 'unsubscribed'])[1 + g % 3]::subscriber_status, 'footer', now() - g * interval '1 hour',
      '192.0.2.7', 'Mozilla/5.0 (a long browser string that has to wrap on a narrow screen rather than push the page wider)'
    FROM generate_series(1, 60) g`)

  const passwordLink = async (email: string, role: StaffRole) => {
    const added = await addStaff(database, email, role, 'test', new Date())
    if (!added.ok) throw new Error(added.message)
    return `${base}/admin/password/${await issuePasswordLink(database, added.account.id, new Date())}`
  }

  const newPage = async (): Promise<Page> => {
    // JavaScript stays on for axe, which runs as a script; the pages themselves cannot run any (CSP script-src
    // 'none'), so everything below is what a browser without JavaScript does.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    context.setDefaultTimeout(10_000)
    t.teardown(() => context.close())
    return await context.newPage()
  }

  const audit = async (page: Page, name: string) => {
    for (const width of [320, 1280]) {
      await page.setViewportSize({ width, height: width === 320 ? 640 : 800 })
      const { violations } = await axe(page)
      t.same(violations, [], `${name} at ${width} px: no WCAG 2.2 AA violations`)
      await screenshot(page, `console-${name}-${width}`)
      const overflow = await page.evaluate(() => {
        const limit = document.documentElement.clientWidth
        return [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > limit + 1)
          .filter((e) => !e.closest('.table-scroll, pre')).map((e) => `<${e.tagName.toLowerCase()}> ${(e.textContent ?? '').slice(0, 40)}`)
      })
      t.same(overflow, [], `${name} at ${width} px: nothing wider than the window`)
    }
    t.equal(await page.locator('h1').count(), 1, `${name}: one h1`)
  }

  const signIn = async (page: Page, link: string, email: string) => {
    await page.goto(link)
    await audit(page, 'set-password')
    await page.getByLabel('New password').fill(STAFF_PASSWORD)
    await page.getByRole('button', { name: 'Set password' }).click()
    await page.waitForURL(/\/admin\/login/)
    await page.goto(`${base}/admin/subscribers`)
    await page.waitForURL(/\/admin\/login\?next=/)
    await audit(page, 'login')
    await page.getByLabel('Email address').fill(email)
    await page.getByLabel('Password').fill(STAFF_PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(`${base}/admin/subscribers`)
  }

  t.test('an owner signs in, searches, opens a subscriber, erases them and signs out, with plain forms and links', async (t) => {
    const page = await newPage()
    await signIn(page, await passwordLink('owner@staff.example.org', 'owner'), 'owner@staff.example.org')
    await audit(page, 'subscribers')
    await page.getByLabel('Address or name').fill('READER1')
    await page.getByLabel('Status').selectOption('confirmed')
    await page.getByRole('button', { name: 'Search' }).click()
    t.match(await page.locator('h2#results').textContent(), /subscribers? match/)
    await page.getByRole('link', { name: 'reader13@example.org' }).click()
    t.equal(await page.locator('h1').textContent(), 'reader13@example.org')
    await audit(page, 'subscriber')
    await page.getByRole('link', { name: 'Erase this subscriber' }).click()
    await audit(page, 'erase')
    t.match(await page.locator('.warning').textContent(), /reader13@example\.org \(Reader 13\)/)
    await page.getByRole('button', { name: 'Erase reader13@example.org' }).click()
    await page.waitForURL(/erased=1/)
    t.match(await page.getByRole('status').textContent(), /erased/)
    t.equal((await database.rows(sql`SELECT 1 FROM subscribers WHERE email = 'reader13@example.org'`)).length, 0)
    for (const [path, name] of [['/admin', 'dashboard'], ['/admin/mail', 'mail'], ['/admin/audit', 'audit'], ['/admin/staff', 'staff'], ['/admin/keys', 'keys']]) {
      await page.goto(`${base}${path}`)
      await audit(page, name)
    }
    // A real browser's multipart upload on the import page, as a dry run, and its report.
    await page.getByRole('link', { name: 'Import' }).click()
    await audit(page, 'import')
    await page.getByLabel('CSV file').setInputFiles({ name: 'list.csv', mimeType: 'text/csv', buffer: Buffer.from('\uFEFFEmail Address;OPTIN_TIME\r\nnew.reader@example.org;2024-01-01 10:00:00\r\n') })
    await page.getByRole('button', { name: 'Import' }).click()
    await page.waitForURL(/\/admin\/import$/)
    t.match(await page.locator('#report').textContent(), /Dry run: nothing was changed into main/)
    t.match(await page.locator('.cards').textContent(), /1\s*added/)
    await audit(page, 'import-report')
    await page.getByRole('link', { name: 'Audit' }).click()
    t.match(await page.locator('table').textContent(), /staff:owner@staff\.example\.org\s*erasure/)
    await page.getByRole('button', { name: 'Sign out', exact: true }).click()
    await page.waitForURL(/\/admin\/login\?done=out/)
    await page.goto(`${base}/admin/subscribers`)
    await page.waitForURL(/\/admin\/login\?next=/)
  })

  t.test('the console in Welsh, chosen with ?lang=cy and kept for the visit: every page passes axe at 320 and 1280 px', async (t) => {
    const page = await newPage()
    await page.goto(`${await passwordLink('perchennog@staff.example.org', 'owner')}?lang=cy`)
    await audit(page, 'set-password-cy')
    await page.getByLabel('Cyfrinair newydd').fill(STAFF_PASSWORD)
    await page.getByRole('button', { name: 'Gosod cyfrinair' }).click()
    await page.waitForURL(/\/admin\/login/)
    t.equal(await page.locator('h1').textContent(), 'Mewngofnodi staff')
    t.equal(await page.locator('html').getAttribute('lang'), 'cy')
    await audit(page, 'login-cy')
    await page.getByLabel('Cyfeiriad e-bost').fill('perchennog@staff.example.org')
    await page.getByLabel('Cyfrinair', { exact: true }).fill(STAFF_PASSWORD)
    await page.getByRole('button', { name: 'Mewngofnodi' }).click()
    await page.waitForURL(`${base}/admin`)
    await audit(page, 'dashboard-cy')
    await page.getByRole('link', { name: 'Tanysgrifwyr', exact: true }).click()
    t.equal(await page.locator('h1').textContent(), 'Tanysgrifwyr')
    await audit(page, 'subscribers-cy')
    await page.locator('#results ~ .table-scroll a').first().click()
    await audit(page, 'subscriber-cy')
    await page.getByRole('link', { name: "Dileu'r tanysgrifiwr hwn" }).click()
    await audit(page, 'erase-cy')
    for (const [path, name] of [['/admin/mail', 'mail-cy'], ['/admin/audit', 'audit-cy'], ['/admin/staff', 'staff-cy'], ['/admin/keys', 'keys-cy'], ['/admin/import', 'import-cy']]) {
      await page.goto(`${base}${path}`)
      t.equal(await page.locator('html').getAttribute('lang'), 'cy', `${name}: in Welsh`)
      await audit(page, name)
    }
  })

  t.test('a viewer sees a subscriber but is refused an erase', async (t) => {
    const page = await newPage()
    await signIn(page, await passwordLink('viewer@staff.example.org', 'viewer'), 'viewer@staff.example.org')
    await page.getByRole('link', { name: 'reader14@example.org' }).click()
    t.equal(await page.getByRole('link', { name: 'Erase this subscriber' }).count(), 0, 'not offered')
    const refused = await page.goto(`${page.url()}/erase`)
    t.equal(refused?.status(), 403)
    t.match(await page.locator('main').textContent(), /needs the editor role/)
    t.equal((await database.rows(sql`SELECT 1 FROM subscribers WHERE email = 'reader14@example.org'`)).length, 1)
  })
}
