// The move to several lists, on a database filled by the schema from before it: every subscriber's status and
// timestamps, every ledger row, every pending confirmation and every unsubscribe link already mailed keep working,
// now as subscriptions to the default list `main`.
import t from 'tap'
import postgres from 'postgres'
import { sql } from 'drizzle-orm'
import { migrate, openDatabase } from '../../src/db/client.js'
import { hashToken } from '../../src/domain/tokens.js'
import { buildTestApp, staff } from '../helpers/app.js'
import { databaseAt } from '../helpers/database.js'
import { csvRecords, exportRows } from '../helpers/flow.js'

const serverUrl = process.env.DATABASE_URL

t.test('the move to lists keeps every status, timestamp, ledger row, pending confirmation and unsubscribe link',
  { skip: serverUrl ? false : 'needs DATABASE_URL (PostgreSQL)' }, async (t) => {
    const url = await databaseAt(t, '0004_tokens_and_mailbox_throttle')
    const old = postgres(url, { max: 1, onnotice: () => {} })
    t.teardown(() => old.end())

    // Filled as the schema before lists filled it.
    const secret = (n: number) => `${'s'.repeat(40)}${n}`.slice(-43)
    const token = 'pending-confirmation-token-0123456789abcdefghij'
    await old`INSERT INTO consent_texts (text, sha256) VALUES ('I agree.', 'sha-of-i-agree')`
    await old`
      INSERT INTO subscribers (id, public_id, email, email_normalized, mailbox, name, status, source, signed_up_at,
        signup_ip, signup_user_agent, consent_text_version, confirmed_at, confirm_ip, confirm_user_agent, unsubscribed_at,
        unsubscribe_method, confirm_token_hash, confirm_token_expires_at, unsubscribe_secret)
      VALUES
        (1, '00000000-0000-4000-8000-000000000001', 'Ann@Example.org', 'ann@example.org', 'ann@example.org', 'Ann',
          'confirmed', 'footer', '2026-01-01T10:00:00Z', '192.0.2.1', 'UA-1', 1, '2026-01-01T10:05:00Z', '192.0.2.2',
          'UA-1b', NULL, NULL, NULL, NULL, ${secret(1)}),
        (2, '00000000-0000-4000-8000-000000000002', 'bob@example.org', 'bob@example.org', 'bob@example.org', NULL,
          'pending', NULL, '2026-02-01T10:00:00Z', '192.0.2.3', 'UA-2', 1, NULL, NULL, NULL, NULL, NULL,
          ${hashToken(token)}, '2099-01-01T00:00:00Z', ${secret(2)}),
        (3, '00000000-0000-4000-8000-000000000003', 'cat@example.org', 'cat@example.org', 'cat@example.org', NULL,
          'unsubscribed', 'api', '2026-03-01T10:00:00Z', NULL, NULL, 1, '2026-03-01T11:00:00Z', NULL, NULL,
          '2026-03-05T09:00:00Z', 'one-click', NULL, NULL, ${secret(3)})`
    await old`SELECT setval('subscribers_id_seq', 3)`
    await old`
      INSERT INTO consent_events (occurred_at, subscriber_id, type, method, details) VALUES
        ('2026-01-01T10:00:00Z', 1, 'signup', 'form', '{"consentTextVersion": 1, "list": "Policy Notes"}'),
        ('2026-01-01T10:05:00Z', 1, 'confirm', 'link', '{"consentTextVersion": 1}'),
        ('2026-02-01T10:00:00Z', 2, 'signup', 'api', '{"consentTextVersion": 1}'),
        ('2026-03-01T10:00:00Z', 3, 'signup', 'api', '{"consentTextVersion": 1}'),
        ('2026-03-05T09:00:00Z', 3, 'unsubscribe', 'one-click', '{}'),
        ('2026-03-06T00:00:00Z', NULL, 'export', 'staff-api', '{"actor": "admin-token"}')`
    await old`
      INSERT INTO outbox (subscriber_id, kind, status, message_id, payload, next_attempt_at)
      VALUES (2, 'confirmation', 'sent', '<m2@example.org>', NULL, now())`

    const database = await openDatabase({ databaseUrl: url, poolSize: 3 })
    t.teardown(() => database.close())
    await migrate({ databaseUrl: url }, database)
    const ta = await buildTestApp(t, {}, { database })

    const rows = csvRecords((await ta.app.inject({ url: '/admin/subscribers.csv?status=all&list=main', headers: staff })).body)
    t.same(rows.map((r) => [r.email, r.list, r.status, r.signed_up_at, r.confirmed_at, r.unsubscribed_at, r.consent_text_version]), [
      ['Ann@Example.org', 'main', 'confirmed', '2026-01-01T10:00:00.000Z', '2026-01-01T10:05:00.000Z', '', '1'],
      ['bob@example.org', 'main', 'pending', '2026-02-01T10:00:00.000Z', '', '', '1'],
      ['cat@example.org', 'main', 'unsubscribed', '2026-03-01T10:00:00.000Z', '2026-03-01T11:00:00.000Z', '2026-03-05T09:00:00.000Z', '1']
    ], 'each subscriber is subscribed to main with the status and evidence they had')
    t.same((await exportRows(ta.app)).map((r) => [r.email, r.status, r.lists]),
      [['Ann@Example.org', 'confirmed', 'main'], ['bob@example.org', 'pending', ''], ['cat@example.org', 'unsubscribed', '']],
      'the export without a list is as before, with the lists column after')

    const events = await database.rows<{ type: string, list: string | null }>(sql`
      SELECT e.type, l.slug AS list FROM consent_events e LEFT JOIN lists l ON l.id = e.list_id ORDER BY e.id LIMIT 6`)
    t.same(events.map((e) => `${e.type}:${e.list ?? '-'}`),
      ['signup:main', 'confirm:main', 'signup:main', 'signup:main', 'unsubscribe:main', 'export:-'],
      'every ledger row is kept; those about a subscription are now about main')

    // The link in mail Ann already has still unsubscribes her.
    const ann = rows[0]
    const left = await ta.app.inject({ method: 'POST', url: new URL(ann.unsubscribe_url).pathname, headers: { accept: 'application/json' } })
    t.equal(left.statusCode, 200)
    // The confirmation link Bob was mailed still confirms him.
    const confirmed = await ta.app.inject({ method: 'POST', url: `/confirm/${token}`, headers: { accept: 'application/json' } })
    t.same(confirmed.json(), { status: 'confirmed', alreadyConfirmed: false })
    t.same((await exportRows(ta.app)).map((r) => [r.email, r.status]),
      [['Ann@Example.org', 'unsubscribed'], ['bob@example.org', 'confirmed'], ['cat@example.org', 'unsubscribed']])
    const changes = await database.rows<{ type: string, list: string }>(sql`
      SELECT e.type, l.slug AS list FROM consent_events e JOIN lists l ON l.id = e.list_id WHERE e.id > 6 ORDER BY e.id`)
    t.same(changes.map((e) => `${e.type}:${e.list}`), ['unsubscribe:main', 'confirm:main'], 'the two changes added a ledger row each')
  })
