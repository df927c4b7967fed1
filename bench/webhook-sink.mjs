// Bench webhook receiver: an HTTP server that answers 204 to every POST and counts deliveries by webhook-id
// (distinct, and repeats). Driven over IPC: expect n → 'done' once n distinct ids arrived; stats → counts.
import { createServer } from 'node:http'

const seen = new Set()
let received = 0
let duplicates = 0
let waiting

const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    received++
    const id = req.headers['webhook-id']
    if (seen.has(id)) duplicates++
    else seen.add(id)
    res.writeHead(204).end()
    if (waiting && seen.size >= waiting) { waiting = undefined; process.send({ type: 'done' }) }
  })
})
server.keepAliveTimeout = 10_000
server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }))
process.on('message', (msg) => {
  if (msg.cmd === 'expect') { seen.clear(); received = 0; duplicates = 0; waiting = msg.n; process.send({ type: 'expecting' }) }
  if (msg.cmd === 'stats') process.send({ type: 'stats', received, distinct: seen.size, duplicates })
})
