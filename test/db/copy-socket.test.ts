// The export's COPY read straight off its socket (src/db/copy-socket.ts): rows of any size, split anywhere between
// socket reads, come out byte for byte with one line counted per row; PostgreSQL's errors, before or during the
// COPY, reach the caller as postgres.js reports them; and the connection is free again afterwards.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { openDatabase } from '../../src/db/client.js'
import { testDatabase } from '../helpers/database.js'

const postgresOnly = process.env.DATABASE_URL ? {} : { skip: 'needs DATABASE_URL: the embedded database has no socket' }

async function copyText (stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

t.test('rows from a few bytes to 200 KB come out byte for byte, a line counted per row and the header', postgresOnly, async (t) => {
  const { url } = await testDatabase(t)
  const database = await openDatabase({ databaseUrl: url, poolSize: 1 })
  t.teardown(() => database.close())
  // Lengths around the 5-byte message header and node's 64 KiB reads, with quotes, line breaks and UTF-8.
  const lengths = [0, 1, 3, 4, 5, 6, 100, 8187, 65531, 65536, 200_000, 2]
  const copy = await database.copyOut(`COPY (SELECT n, repeat('ŷ"' || E'\\n' || 'x', n / 4) AS v FROM unnest(ARRAY[${lengths.join(',')}]) WITH ORDINALITY AS u(n, i) ORDER BY i) TO STDOUT WITH (FORMAT csv, HEADER)`, {})
  const text = await copyText(copy.stream)
  // An empty string is quoted, so it does not read as NULL.
  const expected = ['n,v', ...lengths.map((n) => `${n},"${'ŷ""\nx'.repeat(Math.floor(n / 4))}"`)].join('\n') + '\n'
  t.equal(text, expected)
  t.equal(copy.linesSoFar(), lengths.length + 1)
  await copy.released
})

t.test('an error before the COPY starts rejects; one during it fails the stream; both as postgres.js reports them', postgresOnly, async (t) => {
  const { url } = await testDatabase(t)
  const database = await openDatabase({ databaseUrl: url, poolSize: 1 })
  t.teardown(() => database.close())
  await t.rejects(database.copyOut('COPY (SELECT nonsense FROM nowhere) TO STDOUT', {}), { name: 'PostgresError', code: '42P01' })
  const copy = await database.copyOut('COPY (SELECT 1 / (50000 - g) FROM generate_series(1, 100000) g) TO STDOUT', {})
  await t.rejects(copyText(copy.stream), { name: 'PostgresError', code: '22012', message: 'division by zero' })
  await copy.released
  const again = await database.copyOut('COPY (SELECT 1) TO STDOUT', {})
  t.equal(await copyText(again.stream), '1\n', 'the next export runs')
})

t.test('an export in parts comes out joined in order on two connections, each part larger than the socket buffers', async (t) => {
  const { database } = await testDatabase(t)
  // 200,000 lines of ~40 bytes a part: megabytes each, so the part read ahead waits on its socket.
  const part = (i: number) => `COPY (SELECT g, repeat('x', 30) FROM generate_series(${i * 200_000 + 1}, ${(i + 1) * 200_000}) g) TO STDOUT WITH (FORMAT csv${i === 0 ? ', HEADER' : ''})`
  const copy = await database.copyOut([0, 1, 2, 3, 4].map(part), { base: 'x' })
  const lines = (await copyText(copy.stream)).split('\n')
  t.equal(lines[0], 'g,repeat', 'one header, first')
  t.equal(lines.length - 2, 1_000_000, 'every row once')
  t.ok(lines.slice(1, -1).every((line, i) => line.startsWith(`${i + 1},`)), 'in order across the parts')
  t.equal(copy.linesSoFar(), 1_000_001)
  await copy.released
})

t.test('an export in parts cut short mid-way closes both of its connections', postgresOnly, async (t) => {
  const { database } = await testDatabase(t)
  const part = (i: number) => `COPY (SELECT g, repeat('x', 100) FROM generate_series(${i * 100_000 + 1}, ${(i + 1) * 100_000}) g) TO STDOUT WITH (FORMAT csv)`
  const copy = await database.copyOut([0, 1, 2, 3].map(part), {})
  let bytes = 0
  for await (const chunk of copy.stream) {
    bytes += (chunk as Buffer).length
    if (bytes > 1_000_000) break
  }
  await copy.released
  // A backend ends a moment after its socket closes: polled for up to 5 s.
  let left = -1
  for (let tries = 0; tries < 50 && left !== 0; tries++) {
    if (tries) await new Promise((resolve) => setTimeout(resolve, 100))
    const [row] = await database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'joinlist-export' AND datname = current_database()`)
    left = row.n
  }
  t.equal(left, 0, 'no export connection is left')
})
