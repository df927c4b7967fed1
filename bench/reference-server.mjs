// The sign-up reference: a bare Fastify server on a postgres.js pool of the app's size, one route doing the least a
// sign-up can do — one INSERT … ON CONFLICT DO NOTHING into a table of its own with one unique index
// (bench_subscribers, created by the sign-up bench) — answering 202 {"status":"pending"}. No validation, logger off.
import Fastify from 'fastify'
import postgres from 'postgres'

const sql = postgres(process.env.DATABASE_URL, {
  max: Number(process.env.POOL_SIZE),
  onnotice: () => {},
  connection: { application_name: 'bench-reference' }
})
const app = Fastify({ logger: false })
app.post('/subscribe', async (request, reply) => {
  await sql`INSERT INTO bench_subscribers (email) VALUES (${request.body.email}) ON CONFLICT DO NOTHING`
  return reply.code(202).send({ status: 'pending' })
})
app.get('/readyz', async () => { await sql`select 1`; return { status: 'ready' } })
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.on('SIGTERM', async () => { await app.close(); await sql.end({ timeout: 5 }); process.exit(0) })
