// The sign-up reference: a bare Fastify server on a postgres.js pool of the app's size, doing the least a sign-up
// can do (one INSERT … ON CONFLICT DO NOTHING of the address into the same subscribers table) and answering 202.
import Fastify from 'fastify'
import postgres from 'postgres'

const sql = postgres(process.env.DATABASE_URL, {
  max: Number(process.env.POOL_SIZE),
  onnotice: () => {},
  connection: { application_name: 'bench-reference' }
})
const app = Fastify({ logger: false })
app.post('/subscribe', async (request, reply) => {
  const email = String(request.body.email)
  await sql`INSERT INTO subscribers (email, email_normalized, mailbox) VALUES (${email}, ${email.toLowerCase()}, ${email.toLowerCase()})
    ON CONFLICT (email_normalized) DO NOTHING`
  return reply.code(202).send({ status: 'pending' })
})
app.get('/readyz', async () => { await sql`select 1`; return { status: 'ready' } })
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.on('SIGTERM', async () => { await app.close(); await sql.end({ timeout: 5 }); process.exit(0) })
