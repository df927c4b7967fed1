// A real SMTP server on loopback for the mail bench, in its own process so it does not share the sender's event
// loop. It counts messages by Message-ID (a repeat is a mail sent twice) and tells the parent when it has n.
// SMTP_DELAY_MS makes it a slow server (it answers each message's DATA that much later), so that in the sign-up
// bench the worker runs as it would in production but its mail does not compete with the sign-ups for the CPU.
import { setTimeout as sleep } from 'node:timers/promises'
import { SMTPServer } from 'smtp-server'

const delayMs = Number(process.env.SMTP_DELAY_MS || 0)

let expected = Infinity
let seen = new Map()
let duplicates = 0
let firstAt = 0
let lastAt = 0

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  size: 1024 * 1024,
  async onData (stream, session, callback) {
    const chunks = []
    for await (const c of stream) chunks.push(c)
    const head = Buffer.concat(chunks).subarray(0, 4096).toString('latin1')
    const id = /^Message-ID:\s*(<[^>\r\n]+>)/mi.exec(head)?.[1] ?? `(none ${seen.size})`
    const now = performance.now()
    if (seen.size === 0) firstAt = now
    lastAt = now
    if (seen.has(id)) duplicates++
    seen.set(id, (seen.get(id) ?? 0) + 1)
    if (delayMs) await sleep(delayMs)
    callback()
    if (seen.size + duplicates === expected) process.send({ type: 'done', ...stats() })
  }
})

const stats = () => ({ received: seen.size + duplicates, distinct: seen.size, duplicates, spanMs: lastAt - firstAt })

process.on('message', (msg) => {
  if (msg.cmd === 'expect') {
    expected = msg.n
    seen = new Map()
    duplicates = 0
    process.send({ type: 'expecting' })
  } else if (msg.cmd === 'stats') {
    process.send({ type: 'stats', ...stats() })
  }
})

server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.server.address().port }))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
