// The console's import page, as a member of staff uses it: a session, the form's CSRF token, a multipart upload,
// and the report on the page; a viewer cannot import.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildTestApp } from '../helpers/app.js'
import { signedIn } from '../helpers/console.js'

const BOUNDARY = '----joinlist-test-boundary'
function multipart (fields: Record<string, string>, file?: string): string {
  const parts = Object.entries(fields).map(([name, value]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
  if (file !== undefined) parts.push(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="list.csv"\r\nContent-Type: text/csv\r\n\r\n${file}\r\n`)
  return parts.join('') + `--${BOUNDARY}--\r\n`
}

t.test('an editor uploads a file on the import page and sees the report', async (t) => {
  const { app, database } = await buildTestApp(t)
  const editor = await signedIn(app, database, 'editor')
  const form = await editor.request({ url: '/admin/import' })
  t.equal(form.statusCode, 200)
  t.match(form.body, /<a href="\/admin\/import" aria-current="page">Import<\/a>/)
  t.match(form.body, /enctype="multipart\/form-data"/)
  const upload = async (fields: Record<string, string>, file?: string) => await editor.request({
    method: 'POST',
    url: '/admin/import',
    payload: multipart({ _csrf: await editor.csrfFrom('/admin/import'), ...fields }, file),
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }
  })
  const file = 'email,status,confirmed_at\numa@example.org,confirmed,2024-03-01\nbad-address,pending,\n'

  const dry = await upload({ list: 'main', dryRun: 'true' }, file)
  t.equal(dry.statusCode, 200, dry.body)
  t.match(dry.body, /Dry run: nothing was changed/)
  t.match(dry.body, /<strong>1<\/strong> added/)
  t.match(dry.body, /<td class="num">3<\/td><td>email<\/td>/, 'the problem, with its line')
  const real = await upload({ list: 'main' }, file)
  t.match(real.body, /Imported<\/h2>|Imported into main/)
  const [row] = await database.rows<{ status: string, method: string }>(sql`
    SELECT p.status, e.method FROM subscriptions p JOIN consent_events e ON e.subscriber_id = p.subscriber_id AND e.type = 'import'`)
  t.same(row, { status: 'confirmed', method: 'staff-api' })

  const noFile = await upload({ list: 'main' })
  t.equal(noFile.statusCode, 400)
  t.match(noFile.body, /Choose a CSV file/)
  const badList = await upload({ list: 'nope' }, file)
  t.equal(badList.statusCode, 404)
  t.match(badList.body, /no list with the slug &quot;nope&quot;\. Nothing was imported\./)
  const forged = await editor.request({ method: 'POST', url: '/admin/import', payload: multipart({ _csrf: 'forged', list: 'main' }, file), headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` } })
  t.equal(forged.statusCode, 403, 'a forged form is refused')

  const viewer = await signedIn(app, database, 'viewer')
  t.equal((await viewer.request({ url: '/admin/import' })).statusCode, 403)
  t.notMatch((await viewer.request({ url: '/admin' })).body, /href="\/admin\/import"/, 'a viewer is not offered the page')
})
