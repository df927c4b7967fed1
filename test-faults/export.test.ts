// Drill: abandoned staff exports against a real server process. HEAD ×20 and 20 downloads cut mid-body leave no
// database backend behind, sign-ups and mail go on, and SIGTERM with a paused download still in flight exits 0.
import t from 'tap'
import { ADMIN_TOKEN, staff } from '../test/helpers/app.js'
import { readToEnd, startDownload, type Download } from '../test/helpers/download.js'
import { startSmtp } from '../test/helpers/smtp.js'
import { waitUntil } from '../test/helpers/wait.js'
import { drillDatabase, signup, sleep, startServer } from './harness.js'

const PATH = '/admin/subscribers.csv?status=all'

/** A download that started streaming; a full cap (503) is waited out, as a person clicking again would. */
async function startedDownload (base: string): Promise<{ download: Download, refused: number }> {
  let refused = 0
  for (;;) {
    const download = await startDownload(base, PATH, `Bearer ${ADMIN_TOKEN}`)
    if (download.status === 200) return { download, refused }
    download.socket.destroy()
    if (download.status !== 503 || ++refused > 50) throw new Error(`the export answered ${download.status}`)
    await sleep(100)
  }
}

t.test('after HEAD ×20 and 20 abandoned downloads the server has no export backend left, serves sign-ups, and SIGTERM exits 0', async (t) => {
  const db = await drillDatabase(t)
  const sink = await startSmtp(t)
  // A short idle timeout, so the paused download at SIGTERM is cut well inside close-with-grace's 30 s.
  const server = await startServer(t, 'exports', { DATABASE_URL: db.url, SMTP_URL: sink.url, EXPORT_IDLE_TIMEOUT_SECONDS: '2' })
  // ≈ 30 MB of CSV: far more than the socket buffers hold, so an unread download blocks its backend mid-write.
  await db.sql`
    INSERT INTO subscribers (email, email_normalized, mailbox, name, status, signed_up_at, signup_user_agent)
    SELECT 'drill.' || g || '@example.org', 'drill.' || g || '@example.org', 'drill.' || g || '@example.org', 'Drill ' || g, 'confirmed',
      now() - interval '1 day', repeat('Mozilla/5.0 ', 60)
    FROM generate_series(1, 40000) g`
  const exportBackends = async () => (await db.sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${db.name} AND application_name = 'joinlist-export'`)[0].n

  for (let i = 0; i < 20; i++) {
    const status = await fetch(`${server.url}${PATH}`, { method: 'HEAD', headers: staff, signal: AbortSignal.timeout(10_000) })
      .then((res) => String(res.status), (err: Error) => err.message)
    if (status !== '200') { t.fail(`HEAD ${i + 1}: ${status}`); return }
  }
  t.equal(await exportBackends(), 0, 'HEAD opened no export connection')

  // Two at a time (EXPORT_CONCURRENCY's default), each cut after its first 200 KB.
  let refused = 0
  for (let i = 0; i < 10; i++) {
    const pair = await Promise.all([startedDownload(server.url), startedDownload(server.url)])
    for (const { download, refused: r } of pair) { refused += r; download.socket.destroy() }
  }
  t.comment(`20 downloads abandoned mid-body; ${refused} attempts met a full cap and were retried`)
  const abandonedAt = Date.now()
  await waitUntil(async () => await exportBackends() === 0, 5000, () => 'the export backends to end')
  t.equal((await fetch(`${server.url}/readyz`)).status, 200, '/readyz is 200')
  t.equal(await signup(server.url, 'after-exports@example.org', 5000), 202, 'a sign-up is accepted')
  t.comment(`all back ${Date.now() - abandonedAt} ms after the last download was abandoned`)
  await waitUntil(() => sink.mails.some((m) => m.envelope.to.includes('after-exports@example.org')), 15_000, () => 'the confirmation mail')
  t.pass('and its confirmation mail was sent')

  // A paused download in flight at SIGTERM: the idle timeout cuts it, so the graceful close does not wait for ever.
  const { download: paused } = await startedDownload(server.url)
  server.proc.kill('SIGTERM')
  t.same(await server.exited, { code: 0, signal: null }, 'SIGTERM exits 0')
  t.notOk((await readToEnd(paused.socket)).endsWith('0\r\n\r\n'), 'the paused download was cut, not completed')
  await waitUntil(async () => await exportBackends() === 0, 5000, () => 'the last export backend to end')
  t.pass('no export backend outlives the process')
})
