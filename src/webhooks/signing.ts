// Standard Webhooks signatures (https://www.standardwebhooks.com, "Signature scheme"): HMAC-SHA256 over
// `<webhook-id>.<webhook-timestamp>.<body>` with the secret's bytes, base64, sent as `v1,<signature>`; secrets are
// `whsec_<base64>`. Several signatures (during a secret rotation) go in one header, separated by spaces.
import { createHmac, randomBytes } from 'node:crypto'

const PREFIX = 'whsec_'

/** A new endpoint secret: 32 random bytes (the specification asks for 24 to 64). */
export const newSecret = (): string => PREFIX + randomBytes(32).toString('base64')

/** `v1,<base64 HMAC-SHA256>` of one message with one secret. */
export function sign (secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64')
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')
}

/** The headers of one delivery, signed with every live secret of its endpoint (the current one first). */
export function signedHeaders (secrets: string[], id: string, timestamp: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => sign(s, id, timestamp, body)).join(' ')
  }
}
