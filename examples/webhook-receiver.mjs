// A small Joinlist webhook receiver, runnable as is (Node 20, no dependencies):
//   WEBHOOK_SECRET=whsec_… PORT=8787 node examples/webhook-receiver.mjs
// It checks the Standard Webhooks signature (https://www.standardwebhooks.com), refuses stale timestamps, and
// handles each webhook-id once: deliveries are at least once, so a repeat is answered 200 and otherwise ignored.
// Replace handle() with the calls to your sending tool (see the README's recipes for listmonk and Mailchimp).
import { createHmac, timingSafeEqual } from 'node:crypto'
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'

const secrets = (process.env.WEBHOOK_SECRET ?? '').split(',').filter(Boolean) // during a rotation: new,old
if (secrets.length === 0) throw new Error('set WEBHOOK_SECRET to the whsec_… secret shown when the endpoint was added')
const port = Number(process.env.PORT ?? 8787)
const TOLERANCE_SECONDS = 5 * 60
// Handled ids survive a restart: one per line. A real receiver would use its database (a unique key on the id).
const SEEN_FILE = process.env.SEEN_FILE ?? './webhook-ids-seen.txt'
const seen = new Set(existsSync(SEEN_FILE) ? readFileSync(SEEN_FILE, 'utf8').split('\n').filter(Boolean) : [])

function verified (headers, body) {
  const id = headers['webhook-id']
  const timestamp = headers['webhook-timestamp']
  const signatures = (headers['webhook-signature'] ?? '').split(' ')
  if (!id || !/^\d+$/.test(timestamp ?? '')) return false
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return false
  for (const secret of secrets) {
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest()
    for (const signature of signatures) {
      const [version, value] = signature.split(',')
      const given = Buffer.from(value ?? '', 'base64')
      if (version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected)) return true
    }
  }
  return false
}

async function handle (event) {
  const who = event.data.subscriber
  switch (event.type) {
    case 'subscription.confirmed': console.log(`add ${who.email} to ${event.data.list.slug} (consented ${event.data.consent.signedUpAt})`); break
    case 'subscription.unsubscribed': console.log(`unsubscribe ${who.email} from ${event.data.list.slug}`); break
    case 'subscriber.erased': console.log(`delete subscriber ${who.id} everywhere`); break
    default: console.log(`${event.type}: nothing to do`)
  }
}

createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', async () => {
    const body = Buffer.concat(chunks).toString('utf8') // verify the raw body, before any JSON parsing
    if (req.method !== 'POST' || !verified(req.headers, body)) { res.writeHead(401).end(); return }
    const id = req.headers['webhook-id']
    if (seen.has(id)) { res.writeHead(200).end('already handled'); return }
    try {
      await handle(JSON.parse(body))
    } catch (err) {
      console.error(err)
      res.writeHead(500).end() // Joinlist retries later, with the same webhook-id
      return
    }
    seen.add(id)
    appendFileSync(SEEN_FILE, id + '\n')
    res.writeHead(204).end()
  })
}).listen(port, () => console.log(`listening on http://localhost:${port}/`))
