// Staff invitations by mail: the owner's invite (or a new link) goes through the outbox to the new member of staff,
// who follows the link in the mail that arrived over SMTP and sets a password; a link replaced or used before its
// turn is not sent; the CLI queues one with --mail.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { runCli } from '../../src/cli.js'
import type { Database } from '../../src/db/client.js'
import { buildTestApp } from '../helpers/app.js'
import { browserFor, signedIn, STAFF_PASSWORD } from '../helpers/console.js'
import { linkIn, pathOf } from '../helpers/mail.js'
import { waitForMailTo } from '../helpers/smtp.js'

/** The staff-invite rows' states once none is waiting or being sent (the worker marks a sent mail a moment later). */
async function settledInvites (database: Database): Promise<Array<{ status: string, payload: unknown }>> {
  for (let i = 0; ; i++) {
    const rows = await database.rows<{ status: string, payload: unknown }>(sql`SELECT status::text AS status, payload FROM outbox WHERE kind = 'staff-invite' ORDER BY id`)
    if (i >= 100 || rows.every((r) => r.status !== 'pending' && r.status !== 'sending')) return rows
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

t.test('an invite mailed by an owner arrives over SMTP and its link sets the password', async (t) => {
  const { app, database, smtp } = await buildTestApp(t)
  const owner = await signedIn(app, database, 'owner')
  const invited = await owner.post('/admin/staff', { email: 'New.Editor@Council.example.org', role: 'editor', mail: 'on' })
  t.equal(invited.statusCode, 201)
  t.match(invited.body, /on its way to New\.Editor@Council\.example\.org by email/)
  const mail = await waitForMailTo(smtp, 'New.Editor@Council.example.org')
  t.match(mail.parsed.subject, /Set your password for/)
  t.notOk(mail.parsed.headers.get('list-unsubscribe'), 'a transactional mail: no List-Unsubscribe')
  const link = linkIn(mail, '/admin/password/')
  t.match(invited.body, link, 'the page shows the same link once')
  t.match(mail.parsed.html as string, link, 'the HTML part has the link too')
  const b = browserFor(app, 'new.editor@council.example.org')
  t.equal((await b.post(pathOf(link), { password: STAFF_PASSWORD })).statusCode, 303)
  t.equal((await b.post('/admin/login', { email: 'new.editor@council.example.org', password: STAFF_PASSWORD })).statusCode, 303)
  t.same(await settledInvites(database), [{ status: 'sent', payload: null }], 'the raw token is not kept once the mail is sent')
})

t.test('an invite is mailed in the language the owner uses the console in', async (t) => {
  const { app, database, smtp } = await buildTestApp(t)
  const owner = await signedIn(app, database, 'owner')
  const invited = await owner.request({
    method: 'POST',
    url: '/admin/staff',
    payload: new URLSearchParams({ _csrf: await owner.csrfFrom('/admin/staff'), email: 'golygydd@cyngor.example.org', role: 'viewer', mail: 'on' }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'cy' }
  })
  t.equal(invited.statusCode, 201)
  const mail = await waitForMailTo(smtp, 'golygydd@cyngor.example.org')
  t.match(mail.parsed.subject, /Gosodwch eich cyfrinair/)
  t.equal(mail.parsed.headers.get('content-language'), 'cy')
})

t.test('without the mail box ticked, an invite only shows the link and sends nothing', async (t) => {
  const { app, database } = await buildTestApp(t)
  const owner = await signedIn(app, database, 'owner')
  const invited = await owner.post('/admin/staff', { email: 'quiet@council.example.org', role: 'viewer' })
  t.equal(invited.statusCode, 201)
  t.match(invited.body, /Send this link to quiet@council\.example\.org/)
  const rows = await database.rows(sql`SELECT 1 FROM outbox WHERE kind = 'staff-invite'`)
  t.equal(rows.length, 0)
})

t.test('a mailed link that was replaced by a newer one before its turn is not sent; the newer one is', async (t) => {
  const { app, database, smtp } = await buildTestApp(t)
  const owner = await signedIn(app, database, 'owner')
  await app.outbox.stop()
  await owner.post('/admin/staff', { email: 'twice@council.example.org', role: 'viewer', mail: 'on' })
  const [{ id }] = await database.rows<{ id: number }>(sql`SELECT id FROM staff_accounts WHERE email = 'twice@council.example.org'`)
  const again = await owner.post(`/admin/staff/${id}/link`, { mail: 'on' }, '/admin/staff')
  t.equal(again.statusCode, 200)
  t.match(again.body, /on its way to twice@council\.example\.org/)
  app.outbox.start()
  const mail = await waitForMailTo(smtp, 'twice@council.example.org')
  t.match(again.body, linkIn(mail, '/admin/password/'), 'the mail that arrived carries the newest link')
  t.same((await settledInvites(database)).map((s) => s.status), ['cancelled', 'sent'], 'one mail, not two')
})

t.test('a mailed link already used to set the password before its turn is not sent', async (t) => {
  const { app, database, smtp } = await buildTestApp(t)
  const owner = await signedIn(app, database, 'owner')
  await app.outbox.stop()
  const invited = await owner.post('/admin/staff', { email: 'quick@council.example.org', role: 'viewer', mail: 'on' })
  const link = /<code>([^<]+)<\/code>/.exec(invited.body)![1]
  t.equal((await browserFor(app).post(pathOf(link), { password: STAFF_PASSWORD })).statusCode, 303)
  app.outbox.start()
  t.same(await settledInvites(database), [{ status: 'cancelled', payload: null }])
  t.equal(smtp.mails.length, 0)
})

t.test('the mail page lists a dead staff invite by its masked address', async (t) => {
  const { app, database, smtp } = await buildTestApp(t)
  const owner = await signedIn(app, database, 'owner')
  smtp.opts.refuse = (to) => to === 'bounce@council.example.org' ? 550 : undefined
  await owner.post('/admin/staff', { email: 'bounce@council.example.org', role: 'viewer', mail: 'on' })
  t.same((await settledInvites(database)).map((s) => s.status), ['dead'])
  const page = await owner.request({ url: '/admin/mail' })
  t.equal(page.statusCode, 200)
  t.match(page.body, /staff-invite/)
  t.match(page.body, /b\*\*\*@council\.example\.org/)
})

t.test('the CLI queues the link by mail with --mail and still prints it', async (t) => {
  const { app, database, smtp, config } = await buildTestApp(t)
  let out = ''
  const code = await runCli(['staff', 'add', 'cli.owner@council.example.org', '--role', 'owner', '--mail'], {
    config, database, stdout: { write: (s: string) => { out += s; return true } }, stderr: process.stderr
  } as never)
  t.equal(code, 0)
  t.match(out, /queued for them by email/)
  app.outbox.kick()
  const mail = await waitForMailTo(smtp, 'cli.owner@council.example.org')
  t.match(out, linkIn(mail, '/admin/password/'))
})
