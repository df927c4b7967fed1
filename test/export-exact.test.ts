// The CSV export byte for byte: columns, RFC 4180 quoting, formula neutralising (STANDARDS C20), timestamps and the
// unsubscribe URL, against a string built here. Guards the export's speed work (issue #5) from changing a byte.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { unsubscribeToken } from '../src/domain/tokens.js'
import { buildTestApp, PUBLIC_URL, staff, TOKEN_SECRET } from './helpers/app.js'

const ids = [
  '00000000-0000-4000-8000-000000000001',
  '00000000-0000-4000-8000-000000000002',
  '00000000-0000-4000-8000-000000000003',
  '00000000-0000-4000-8000-000000000004'
]
const unsubscribeUrl = (publicId: string) => `${PUBLIC_URL}/unsubscribe/${unsubscribeToken(TOKEN_SECRET, publicId)}`

t.test('the export is exactly the expected CSV: quoting, neutralised cells, ISO times and unsubscribe links', async (t) => {
  const { app, database } = await buildTestApp(t)
  // Stored as they are, whatever the sign-up form would accept: the export must be safe for any stored value.
  await database.rows(sql`
    INSERT INTO subscribers (public_id, email, email_normalized, name, status, source, signed_up_at, signup_ip,
      signup_user_agent, confirmed_at, confirm_ip, unsubscribed_at)
    VALUES
      (${ids[0]}, 'Jane.Doe@Example.org', 'jane.doe@example.org', 'Jane', 'confirmed', 'footer',
        '2026-01-02T03:04:05.678901Z', '192.0.2.1', 'Mozilla/5.0 (X11; Linux x86_64)', '2026-01-03T00:00:00.001Z',
        '2001:db8::1', NULL),
      (${ids[1]}, '=cmd@example.org', '=cmd@example.org', '=HYPERLINK("http://evil.example","x")', 'pending', '+source',
        '2026-02-01T00:00:00Z', NULL, '-ua', NULL, NULL, NULL),
      (${ids[2]}, 'smith@example.org', 'smith@example.org', ${'Smith, "J"\nSr'}, 'unsubscribed', '',
        '2026-03-01T12:00:00.5Z', '198.51.100.7', ${'\tTab agent'}, '2026-03-02T00:00:00Z', '198.51.100.8',
        '2026-03-03T23:59:59.999Z'),
      (${ids[3]}, 'at@example.org', 'at@example.org', '@mention', 'pending', NULL,
        '2026-04-01T00:00:00Z', NULL, ${'\rcr'}, NULL, NULL, NULL)`)

  const res = await app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })
  t.equal(res.statusCode, 200)

  // consent_text_version (issue #7) is empty: these rows were stored without one.
  const expected = [
    'email,name,status,source,signed_up_at,signup_ip,signup_user_agent,confirmed_at,confirm_ip,unsubscribed_at,unsubscribe_url,consent_text_version',
    `Jane.Doe@Example.org,Jane,confirmed,footer,2026-01-02T03:04:05.678Z,192.0.2.1,Mozilla/5.0 (X11; Linux x86_64),2026-01-03T00:00:00.001Z,2001:db8::1,,${unsubscribeUrl(ids[0])},`,
    `'=cmd@example.org,"'=HYPERLINK(""http://evil.example"",""x"")",pending,'+source,2026-02-01T00:00:00.000Z,,'-ua,,,,${unsubscribeUrl(ids[1])},`,
    `smith@example.org,"Smith, ""J""\nSr",unsubscribed,"",2026-03-01T12:00:00.500Z,198.51.100.7,'\tTab agent,2026-03-02T00:00:00.000Z,198.51.100.8,2026-03-03T23:59:59.999Z,${unsubscribeUrl(ids[2])},`,
    `at@example.org,'@mention,pending,,2026-04-01T00:00:00.000Z,,"'\rcr",,,,${unsubscribeUrl(ids[3])},`,
    ''
  ].join('\n')
  t.equal(res.body, expected)
  t.equal(res.rawPayload.length, Buffer.byteLength(expected), 'the same bytes, not just the same text')
})
