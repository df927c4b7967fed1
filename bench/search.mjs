// Search bench: seed 1M subscribers with varied names, addresses, sources and sign-up dates (all on one list, a third
// on a second), then time 250 varied GET /admin/api/subscribers searches over HTTP (partial address and name matches,
// rare and common, every filter, one list or all, later pages through the cursor) against GET /readyz on the same
// server, the floor of an HTTP request that makes one database round trip. Target: p95 ≤ 50 ms. The server runs
// with the retention purge off: it would delete the seeded pending sign-ups (all older than the retention) while
// the searches are timed.
import { ADMIN_TOKEN, appEnv, freePort, root, startNode, waitFor200 } from './lib.mjs'

const FIRST = ['jane', 'john', 'amira', 'rhys', 'siân', 'oliver', 'fatima', 'dafydd', 'chen', 'maria', 'tomasz', 'aoife', 'kwame', 'priya', 'lars', 'noor']
const LAST = ['smith', 'jones', 'williams', 'davies', 'evans', 'khan', 'nowak', 'murphy', 'okafor', 'patel', 'garcia', 'hughes', 'roberts', 'li', 'brown', 'morgan']
const DOMAINS = ['example.com', 'example.org', 'council.example.gov.uk', 'mail.example.net', 'post.example.co.uk']
const SOURCES = ['footer', 'homepage', 'event', 'import', 'api', 'campaign-spring', 'campaign-autumn']

/** 1M subscribers: first.last<n>@domain, names (a tenth without), statuses, sources and dates over three years. */
export async function seedSearch (sql, count) {
  await sql`
    INSERT INTO subscribers (email, email_normalized, mailbox, name, status, source, signed_up_at, confirmed_at)
    SELECT e, lower(e), lower(e), n, st, src, at, CASE WHEN st <> 'pending' THEN at + interval '1 hour' END
    FROM (
      SELECT (${FIRST}::text[])[1 + g % 16] || '.' || (${LAST}::text[])[1 + (g / 16) % 16] || g || '@' || (${DOMAINS}::text[])[1 + (g / 7) % 5] AS e,
        CASE WHEN g % 10 = 0 THEN NULL ELSE initcap((${FIRST}::text[])[1 + g % 16]) || ' ' || initcap((${LAST}::text[])[1 + (g / 16) % 16]) END AS n,
        (ARRAY['confirmed', 'confirmed', 'pending', 'unsubscribed'])[1 + (g * 7) % 4]::subscriber_status AS st,
        (${SOURCES}::text[])[1 + (g * 13) % 7] AS src,
        timestamptz '2023-06-01 00:00:00Z' + (g * interval '94.6 second') + ((g * 37) % 1000) * interval '1 microsecond' AS at
      FROM generate_series(1, ${count}::int) g
    ) x`
  // Everyone on the list every deployment starts with (`main`), in their status; a third also on a second list.
  await sql`INSERT INTO lists (slug, name) VALUES ('events', 'Events')`
  await sql`
    INSERT INTO subscriptions (subscriber_id, list_id, status, signed_up_at, confirmed_at)
    SELECT s.id, l.id, s.status, s.signed_up_at, s.confirmed_at FROM subscribers s, lists l WHERE l.slug = 'main'`
  await sql`
    INSERT INTO subscriptions (subscriber_id, list_id, status, signed_up_at, confirmed_at)
    SELECT s.id, l.id, (ARRAY['confirmed', 'pending', 'unsubscribed'])[1 + s.id % 3]::subscriber_status, s.signed_up_at, s.confirmed_at
    FROM subscribers s, lists l WHERE l.slug = 'events' AND s.id % 3 = 0`
  await sql`VACUUM ANALYZE subscribers`
  await sql`VACUUM ANALYZE subscriptions`
}

/** 250 searches of every kind; each is [kind, query string]. */
function searches () {
  const out = []
  const add = (kind, params) => out.push([kind, new URLSearchParams({ limit: '50', ...params }).toString()])
  for (let i = 0; i < 25; i++) {
    const g = 1 + ((i * 39_937) % 1_000_000)
    add('rare address (exact local part)', { q: `${FIRST[g % 16]}.${LAST[Math.floor(g / 16) % 16]}${g}@` })
    add('common name fragment', { q: LAST[i % 16].slice(0, 4 + (i % 2)) })
    add('name fragment + status', { q: FIRST[i % 16].slice(0, 3), status: ['confirmed', 'pending', 'unsubscribed'][i % 3] })
    add('short text (2 chars)', { q: LAST[i % 16].slice(1, 3) })
    add('status + source', { status: ['confirmed', 'pending', 'unsubscribed'][i % 3], source: SOURCES[i % 7] })
    add('sign-up date range', { since: `2024-0${1 + (i % 9)}-01`, until: `2024-0${1 + (i % 9)}-${10 + (i % 18)}` })
    add('domain + date + status', { q: DOMAINS[i % 5], since: '2025-01-01', status: 'confirmed' })
    add('no filter, newest first', {})
    add('list + name fragment + source', { list: i % 2 ? 'main' : 'events', q: FIRST[(i * 5) % 16].slice(0, 3), source: SOURCES[i % 7] })
    add('list + status', { list: i % 2 ? 'main' : 'events', status: ['confirmed', 'pending', 'unsubscribed'][i % 3] })
  }
  return out
}

async function timed (url) {
  const t = performance.now()
  const res = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'application/json' } })
  const body = await res.json()
  const ms = performance.now() - t
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(body)}`)
  return { ms, body }
}

const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

export async function searchBench ({ db, log, rows = 1_000_000 }) {
  // BENCH_SEARCH_DATABASE_URL: a database an earlier run seeded (kept by hand), to time again without seeding.
  const url = process.env.BENCH_SEARCH_DATABASE_URL || db.url
  if (url === db.url) {
    log(`search: seeding ${rows} subscribers`)
    await seedSearch(db.sql, rows)
  }
  const port = await freePort()
  const app = startNode(`${root}dist/server.js`, appEnv(port, url, { LOG_LEVEL: 'warn', PURGE_INTERVAL_MINUTES: '0' }), { label: 'search' })
  const base = `http://127.0.0.1:${port}`
  try {
    await waitFor200(`${base}/readyz`, app.child)
    const list = searches()
    // One warm-up pass of every kind (plan cache, connection pool, index pages), untimed.
    for (const [, qs] of list.slice(0, 8)) await timed(`${base}/admin/api/subscribers?${qs}`)
    const byKind = new Map()
    const all = []
    for (const [kind, qs] of list) {
      const { ms, body } = await timed(`${base}/admin/api/subscribers?${qs}`)
      // Every fifth search also fetches its next page, as staff paging through would.
      if (body.nextCursor && all.length % 5 === 0) {
        const next = await timed(`${base}/admin/api/subscribers?${qs}&cursor=${body.nextCursor}`)
        byKind.set('next page (cursor)', [...(byKind.get('next page (cursor)') ?? []), next.ms])
        all.push(next.ms)
      }
      byKind.set(kind, [...(byKind.get(kind) ?? []), ms])
      all.push(ms)
    }
    const reference = []
    for (let i = 0; i < 200; i++) {
      const t = performance.now()
      const res = await fetch(`${base}/readyz`)
      await res.arrayBuffer()
      reference.push(performance.now() - t)
    }
    const kinds = [...byKind].map(([kind, ms]) => ({ kind, n: ms.length, p50: pct(ms, 50), p95: pct(ms, 95), max: Math.max(...ms) }))
    return { rows, searches: all.length, p50: pct(all, 50), p95: pct(all, 95), max: Math.max(...all), refP50: pct(reference, 50), refP95: pct(reference, 95), kinds }
  } finally {
    await app.stop()
  }
}
