// The mail reference: nodemailer's pooled SMTP transport sending n prepared confirmation mails straight to the
// sink, as fast as the pool takes them. Same pool size, same message builder as the outbox worker.
import nodemailer from 'nodemailer'
import { loadConfig } from '../dist/config.js'
import { confirmationMail, mailSettings } from '../dist/mail/messages.js'

const n = Number(process.env.COUNT)
const url = new URL(process.env.SMTP_URL)
const transport = nodemailer.createTransport({
  pool: true,
  maxConnections: Number(process.env.SMTP_POOL_SIZE),
  maxMessages: Infinity,
  host: url.hostname,
  port: Number(url.port)
})
// The app's own templates and sender, as the worker uses them.
const settings = mailSettings(loadConfig({ PUBLIC_URL: 'https://news.example.org' }))
const messages = Array.from({ length: n }, (_, i) => confirmationMail({
  ...settings,
  to: { address: `raw${i}@example.com`, name: null },
  messageId: `<raw-${i}-${process.pid}@mail.example.org>`
}, `https://news.example.org/confirm/${'x'.repeat(43)}${i}`, 72))

process.send({ type: 'ready' })
process.once('message', async () => {
  let failed = 0
  await Promise.all(messages.map((m) => transport.sendMail(m).catch(() => { failed++ })))
  transport.close()
  process.send({ type: 'sent', failed })
})
