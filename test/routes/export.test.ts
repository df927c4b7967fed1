// The staff CSV export: who may download it, the filters, the file's name, RFC 4180 quoting, formula
// neutralisation against CSV injection (a leading ' before = + - @ TAB CR; OWASP "CSV Injection"), the
// per-subscriber unsubscribe_url, and the whole file byte for byte against a string built here, so that work on the
// export's speed cannot change a byte of it.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { unsubscribeToken } from '../../src/domain/tokens.js'
import { ADMIN_TOKEN, buildTestApp, json, PUBLIC_URL, staff } from '../helpers/app.js'
import { pathOf } from '../helpers/mail.js'
import { csvRecords, exportRowOf, exportRows, signUp, signUpAndConfirm } from '../helpers/flow.js'

const COLUMNS = 'email,name,status,source,signed_up_at,signup_ip,signup_user_agent,confirmed_at,confirm_ip,unsubscribed_at,unsubscribe_url'
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

t.test('the export answers 401 with WWW-Authenticate without credentials or with wrong ones', async (t) => {
  const { app } = await buildTestApp(t)
  const attempts: Array<Record<string, string>> = [
    {},
    { authorization: 'Bearer wrong-token-0123456789abcdef0123456789' },
    { authorization: `Bearer ${ADMIN_TOKEN}x` },
    { authorization: basic('staff', 'wrong') },
    { authorization: basic(ADMIN_TOKEN, 'wrong') },
    { authorization: `Token ${ADMIN_TOKEN}` },
    { authorization: 'Basic !!!not-base64' }
  ]
  for (const headers of attempts) {
    const res = await app.inject({ url: '/admin/subscribers.csv', headers: { ...headers, accept: 'application/json' } })
    t.equal(res.statusCode, 401, headers.authorization ?? 'no Authorization')
    t.match(res.headers['www-authenticate'], /^Basic realm="Joinlist staff"/)
    t.equal(res.json().error, 'unauthorized')
    t.notMatch(res.body, /email,name/, 'no CSV')
  }
})

t.test('HTTP Basic with ADMIN_TOKEN as the password (any user name) and Bearer both open the export', async (t) => {
  const { app } = await buildTestApp(t)
  for (const authorization of [basic('anyone', ADMIN_TOKEN), basic('', ADMIN_TOKEN), `Bearer ${ADMIN_TOKEN}`, `bearer ${ADMIN_TOKEN}`]) {
    const res = await app.inject({ url: '/admin/subscribers.csv', headers: { authorization } })
    t.equal(res.statusCode, 200, authorization.slice(0, 12))
    t.ok(res.body.trim().startsWith(COLUMNS), 'the header row: the contract columns first, in order (more may follow)')
  }
})

t.test('without ADMIN_TOKEN the export is closed with 503, whatever the credentials', async (t) => {
  const { app } = await buildTestApp(t, { ADMIN_TOKEN: '' })
  for (const headers of [{}, staff, { authorization: basic('x', ADMIN_TOKEN) }]) {
    const res = await app.inject({ url: '/admin/subscribers.csv', headers: { ...headers, accept: 'application/json' } })
    t.equal(res.statusCode, 503)
    t.equal(res.json().error, 'staff_disabled')
    t.match(res.json().message, /ADMIN_TOKEN/)
  }
})

t.test('the export is a text/csv attachment named for the day', async (t) => {
  const ta = await buildTestApp(t)
  ta.clock.advance(3 * 86_400_000)
  const res = await ta.app.inject({ url: '/admin/subscribers.csv', headers: staff })
  t.equal(res.headers['content-type'], 'text/csv; charset=utf-8')
  const day = ta.clock.now().toISOString().slice(0, 10)
  t.equal(res.headers['content-disposition'], `attachment; filename="subscribers-${day}.csv"`)
  t.equal(res.headers['cache-control'], 'no-store')
})

t.test('the status filter: confirmed by default, or pending, unsubscribed, all', async (t) => {
  const ta = await buildTestApp(t)
  await signUp(ta.app, 'p@example.org')
  await signUpAndConfirm(ta, 'c@example.org')
  await signUpAndConfirm(ta, 'u@example.org')
  const u = await exportRowOf(ta.app, 'u@example.org')
  await ta.app.inject({ method: 'POST', url: pathOf(u!.unsubscribe_url), headers: { accept: 'application/json' } })

  const emails = async (query: string) => (await exportRows(ta.app, query)).map((r) => `${r.email}:${r.status}`)
  t.same(await emails(''), ['c@example.org:confirmed'])
  t.same(await emails('status=confirmed'), ['c@example.org:confirmed'])
  t.same(await emails('status=pending'), ['p@example.org:pending'])
  t.same(await emails('status=unsubscribed'), ['u@example.org:unsubscribed'])
  t.same(await emails('status=all'), ['p@example.org:pending', 'c@example.org:confirmed', 'u@example.org:unsubscribed'])
})

t.test('since= keeps sign-ups from that instant or day on', async (t) => {
  const ta = await buildTestApp(t)
  await signUp(ta.app, 'old@example.org')
  ta.clock.advance(2 * 86_400_000)
  const cut = ta.clock.now()
  ta.clock.advance(1000)
  await signUp(ta.app, 'new@example.org')

  const emails = async (query: string) => (await exportRows(ta.app, query)).map((r) => r.email)
  t.same(await emails(`status=all&since=${encodeURIComponent(cut.toISOString())}`), ['new@example.org'])
  const offset = cut.toISOString().replace('Z', '+00:00')
  t.same(await emails(`status=all&since=${encodeURIComponent(offset)}`), ['new@example.org'], 'with a numeric offset')
  t.same(await emails(`status=all&since=${cut.toISOString().slice(0, 10)}`), ['new@example.org'], 'a date alone')
  t.same(await emails('status=pending&since=2000-01-01'), ['old@example.org', 'new@example.org'], 'combined with status')
})

t.test('a bad status or since gets 400 {error, message, field}', async (t) => {
  const { app } = await buildTestApp(t)
  for (const [query, field] of [['status=everyone', 'status'], ['since=yesterday', 'since'], ['since=2026-13-45', 'since']]) {
    const res = await app.inject({ url: `/admin/subscribers.csv?${query}`, headers: { ...staff, accept: 'application/json' } })
    t.equal(res.statusCode, 400, query)
    t.match(res.json(), { error: 'invalid_field', field })
    t.match(res.json().message, new RegExp(field))
  }
})

t.test('a since before 1970-01-01 or after now gets 400 naming the range, and nothing is written to the ledger', async (t) => {
  const { app, database, clock } = await buildTestApp(t)
  const future = new Date(clock.now().getTime() + 2 * 86_400_000)
  const outside = ['0000-01-01', '1969-12-31', '1969-12-31T23:59:59Z', '9999-12-31T23:59:59-14:00', future.toISOString().slice(0, 10), future.toISOString()]
  for (const since of outside) {
    const res = await app.inject({ url: `/admin/subscribers.csv?since=${encodeURIComponent(since)}`, headers: { ...staff, accept: 'application/json' } })
    t.equal(res.statusCode, 400, since)
    t.match(res.json(), { error: 'invalid_field', field: 'since', message: /from 1970-01-01 up to now/ })
  }
  const [{ n }] = await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM consent_events WHERE type = 'export'`)
  t.equal(n, 0, 'no ledger row for a refused export')
  for (const since of ['1970-01-01', clock.now().toISOString()]) {
    t.equal((await app.inject({ url: `/admin/subscribers.csv?since=${encodeURIComponent(since)}`, headers: staff })).statusCode, 200, `${since}: the ends of the range`)
  }
})

t.test('cells are RFC 4180 quoted and formula-like cells are neutralised with a leading quote', async (t) => {
  const ta = await buildTestApp(t)
  const people: Array<[string, string, string?]> = [
    ['comma@example.org', 'Doe, "Jay"'],
    ['hyperlink@example.org', '=HYPERLINK("http://evil.example","click")', '=cmd'],
    ['plus@example.org', '+1'],
    ['minus@example.org', '-1', '-x'],
    ['at@example.org', '@x', '@SUM(A1)'],
    ['owasp@example.org', '=1+2";=1+2'],
    ['=1+2@example.org', 'Formula Address'],
    ['plain@example.org', 'Ann O\'Neil (née Ünal)']
  ]
  for (const [email, name, source] of people) await signUp(ta.app, email, source ? { name, source } : { name })

  const res = await ta.app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })
  const rows = csvRecords(res.body)
  const by = (email: string) => rows.find((r) => r.email === email || r.email === `'${email}`)!
  t.equal(by('comma@example.org').name, 'Doe, "Jay"', 'comma and quotes survive a round trip')
  t.equal(by('hyperlink@example.org').name, '\'=HYPERLINK("http://evil.example","click")')
  t.equal(by('hyperlink@example.org').source, '\'=cmd')
  t.equal(by('plus@example.org').name, '\'+1')
  t.equal(by('minus@example.org').name, '\'-1')
  t.equal(by('minus@example.org').source, '\'-x')
  t.equal(by('at@example.org').name, '\'@x')
  t.equal(by('at@example.org').source, '\'@SUM(A1)')
  t.equal(by('=1+2@example.org').email, '\'=1+2@example.org', 'the address cell too')
  t.equal(by('plain@example.org').name, 'Ann O\'Neil (née Ünal)', 'ordinary text untouched')
  t.ok(res.body.includes('"\'=1+2"";=1+2"'), 'the OWASP example, byte for byte')
  t.ok(res.body.includes('"Doe, ""Jay"""'), 'quotes doubled inside a quoted cell')
  for (const row of rows) {
    for (const [column, cell] of Object.entries(row)) t.notMatch(cell, /^[=+\-@\t\r]/, `${column} never starts a formula`)
  }
})

t.test('each row carries the consent evidence with ISO 8601 UTC timestamps', async (t) => {
  const ta = await buildTestApp(t)
  await ta.app.inject({
    method: 'POST',
    url: '/subscribe',
    payload: JSON.stringify({ email: 'evidence@example.org', source: 'blog-footer' }),
    headers: { 'content-type': 'application/json', 'user-agent': 'Mozilla/5.0 (Evidence)' }
  })
  const [row] = await exportRows(ta.app)
  t.match(row, { email: 'evidence@example.org', name: '', status: 'pending', source: 'blog-footer', signup_ip: '127.0.0.1', signup_user_agent: 'Mozilla/5.0 (Evidence)', confirmed_at: '', confirm_ip: '', unsubscribed_at: '' })
  t.match(row.signed_up_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.ok(Math.abs(Date.parse(row.signed_up_at) - ta.clock.now().getTime()) < 60_000, 'the sign-up time, in UTC')
})

t.test('the unsubscribe_url in the export unsubscribes when POSTed', async (t) => {
  const ta = await buildTestApp(t)
  await signUpAndConfirm(ta, 'newsletter-tool@example.org')
  const row = await exportRowOf(ta.app, 'newsletter-tool@example.org')
  t.match(row!.unsubscribe_url, /^https:\/\/news\.example\.org\/unsubscribe\/[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/)
  const res = await ta.app.inject({ method: 'POST', url: pathOf(row!.unsubscribe_url), payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(res.statusCode, 200)
  t.equal((await exportRowOf(ta.app, 'newsletter-tool@example.org'))!.status, 'unsubscribed')
})

t.test('concurrent exports with different filters each get their own rows', async (t) => {
  const ta = await buildTestApp(t, { EXPORT_CONCURRENCY: '6' })
  await signUp(ta.app, 'p1@example.org')
  await signUpAndConfirm(ta, 'c1@example.org')
  const queries = ['status=pending', 'status=confirmed', 'status=all', 'status=pending', 'status=confirmed', 'status=all']
  const results = await Promise.all(queries.map((q) => exportRows(ta.app, q)))
  const want: Record<string, string[]> = { 'status=pending': ['p1@example.org'], 'status=confirmed': ['c1@example.org'], 'status=all': ['p1@example.org', 'c1@example.org'] }
  for (const [i, q] of queries.entries()) t.same(results[i].map((r) => r.email), want[q], q)
})

const ids = [
  '00000000-0000-4000-8000-000000000001',
  '00000000-0000-4000-8000-000000000002',
  '00000000-0000-4000-8000-000000000003',
  '00000000-0000-4000-8000-000000000004'
]
// Each row's unsubscribe secret is its public id's last digit repeated: the export prints the stored one.
const secretOf = (publicId: string) => publicId.slice(-1).repeat(43)
const unsubscribeUrl = (publicId: string) => `${PUBLIC_URL}/unsubscribe/${unsubscribeToken(publicId, secretOf(publicId))}`

t.test('the export is exactly the expected CSV: quoting, neutralised cells, ISO times and unsubscribe links', async (t) => {
  const { app, database } = await buildTestApp(t)
  // Stored as they are, whatever the sign-up form would accept: the export must be safe for any stored value.
  await database.rows(sql`
    INSERT INTO subscribers (public_id, email, email_normalized, name, status, source, signed_up_at, signup_ip,
      signup_user_agent, confirmed_at, confirm_ip, unsubscribed_at, mailbox, unsubscribe_secret)
    VALUES
      (${ids[0]}, 'Jane.Doe@Example.org', 'jane.doe@example.org', 'Jane', 'confirmed', 'footer',
        '2026-01-02T03:04:05.678901Z', '192.0.2.1', 'Mozilla/5.0 (X11; Linux x86_64)', '2026-01-03T00:00:00.001Z',
        '2001:db8::1', NULL, 'jane.doe@example.org', ${secretOf(ids[0])}),
      (${ids[1]}, '=cmd@example.org', '=cmd@example.org', '=HYPERLINK("http://evil.example","x")', 'pending', '+source',
        '2026-02-01T00:00:00Z', NULL, '-ua', NULL, NULL, NULL, '=cmd@example.org', ${secretOf(ids[1])}),
      (${ids[2]}, 'smith@example.org', 'smith@example.org', ${'Smith, "J"\nSr'}, 'unsubscribed', '',
        '2026-03-01T12:00:00.5Z', '198.51.100.7', ${'\tTab agent'}, '2026-03-02T00:00:00Z', '198.51.100.8',
        '2026-03-03T23:59:59.999Z', 'smith@example.org', ${secretOf(ids[2])}),
      (${ids[3]}, 'at@example.org', 'at@example.org', '@mention', 'pending', NULL,
        '2026-04-01T00:00:00Z', NULL, ${'\rcr'}, NULL, NULL, NULL, 'at@example.org', ${secretOf(ids[3])})`)

  const res = await app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })
  t.equal(res.statusCode, 200)

  // consent_text_version is empty: these rows were stored without a consent text. lists: the one list's slug for
  // a confirmed subscriber.
  const expected = [
    'email,name,status,source,signed_up_at,signup_ip,signup_user_agent,confirmed_at,confirm_ip,unsubscribed_at,unsubscribe_url,consent_text_version,lists',
    `Jane.Doe@Example.org,Jane,confirmed,footer,2026-01-02T03:04:05.678Z,192.0.2.1,Mozilla/5.0 (X11; Linux x86_64),2026-01-03T00:00:00.001Z,2001:db8::1,,${unsubscribeUrl(ids[0])},,main`,
    `'=cmd@example.org,"'=HYPERLINK(""http://evil.example"",""x"")",pending,'+source,2026-02-01T00:00:00.000Z,,'-ua,,,,${unsubscribeUrl(ids[1])},,""`,
    `smith@example.org,"Smith, ""J""\nSr",unsubscribed,"",2026-03-01T12:00:00.500Z,198.51.100.7,'\tTab agent,2026-03-02T00:00:00.000Z,198.51.100.8,2026-03-03T23:59:59.999Z,${unsubscribeUrl(ids[2])},,""`,
    `at@example.org,'@mention,pending,,2026-04-01T00:00:00.000Z,,"'\rcr",,,,${unsubscribeUrl(ids[3])},,""`,
    ''
  ].join('\n')
  t.equal(res.body, expected)
  t.equal(res.rawPayload.length, Buffer.byteLength(expected), 'the same bytes, not just the same text')
})

t.test('times print with their milliseconds truncated, before, at and after 2000-01-01 and at any microsecond', async (t) => {
  const { app, database } = await buildTestApp(t)
  // [stored, printed]: PostgreSQL counts time from 2000-01-01 and rounds differently on either side of it.
  const times = [
    ['1969-07-20T20:17:40.5Z', '1969-07-20T20:17:40.500Z'],
    ['1999-12-31T23:59:59Z', '1999-12-31T23:59:59.000Z'],
    ['1999-12-31T23:59:59.9995Z', '1999-12-31T23:59:59.999Z'],
    ['2000-01-01T00:00:00Z', '2000-01-01T00:00:00.000Z'],
    ['2000-01-01T00:00:00.000499Z', '2000-01-01T00:00:00.000Z'],
    ['2000-01-01T00:00:00.0005Z', '2000-01-01T00:00:00.000Z'],
    ['2026-12-05T12:00:00.000999Z', '2026-12-05T12:00:00.000Z'],
    ['2026-12-05T12:00:00.001Z', '2026-12-05T12:00:00.001Z'],
    ['2026-12-05T12:00:00.1Z', '2026-12-05T12:00:00.100Z'],
    ['2026-12-05T23:59:59.999999Z', '2026-12-05T23:59:59.999Z'],
    ['10000-01-01T00:00:00.25Z', '10000-01-01T00:00:00.250Z']
  ]
  for (const [i, [stored]] of times.entries()) {
    await database.rows(sql`
      INSERT INTO subscribers (email, email_normalized, mailbox, status, signed_up_at, confirmed_at, unsubscribed_at)
      VALUES (${`t${i}@example.org`}, ${`t${i}@example.org`}, ${`t${i}@example.org`}, 'unsubscribed', ${stored}::timestamptz,
        ${stored}::timestamptz, ${stored}::timestamptz)`)
  }
  const rows = await exportRows(app)
  t.same(rows.map((r) => [r.signed_up_at, r.confirmed_at, r.unsubscribed_at]), times.map(([, printed]) => [printed, printed, printed]))
})

t.test('format=excel: the same rows with a UTF-8 byte order mark and CRLF line ends; the default stays RFC 4180 with LF', async (t) => {
  const { app } = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'sian@example.org', name: 'Siân Llŷr' }) })
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'rhys@example.org', name: 'Rhys ab Owain' }) })
  const plain = await app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })
  const excel = await app.inject({ url: '/admin/subscribers.csv?status=all&format=excel', headers: staff })
  t.equal(excel.statusCode, 200)
  t.match(excel.headers['content-disposition'], /filename="subscribers-\d{4}-\d{2}-\d{2}-excel\.csv"/)
  const bytes = excel.rawPayload
  t.same([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'starts with the UTF-8 BOM')
  const text = bytes.subarray(3).toString('utf8')
  t.equal(text.split('\r\n').length, 4, 'header, two rows, and the final line end, all CRLF')
  t.notMatch(text.replace(/\r\n/g, ''), /\n/, 'no bare LF')
  t.equal(text.replace(/\r\n/g, '\n'), plain.body, 'otherwise byte for byte the plain export')
  t.match(text, 'Siân Llŷr')
  t.notOk(plain.rawPayload.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])), 'the default has no BOM')
  t.notMatch(plain.body, '\r\n')
  const bad = await app.inject({ url: '/admin/subscribers.csv?format=xlsx', headers: { ...staff, accept: 'application/json' } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { error: 'invalid_field', message: 'format must be rfc4180 or excel.', field: 'format' })
  const dashboard = await app.inject({ url: '/admin', headers: staff })
  t.match(dashboard.body, 'href="/admin/subscribers.csv?status=all&amp;format=excel" download>Download all subscribers for Excel (CSV)</a>')
})

t.test('the Excel transform keeps a line break inside a quoted value, across chunk boundaries', async (t) => {
  const { excelCsv } = await import('../../src/domain/excel-csv.js')
  const transform = excelCsv()
  const out: Buffer[] = []
  transform.on('data', (c: Buffer) => out.push(c))
  const done = new Promise((resolve) => transform.on('end', resolve))
  for (const part of ['a,"line one', '\nline ""two""",b\n', 'c,d\n']) transform.write(Buffer.from(part))
  transform.end()
  await done
  t.equal(Buffer.concat(out).toString('utf8'), '\ufeffa,"line one\nline ""two""",b\r\nc,d\r\n')
})
