// Where webhooks may go (server-side request forgery): never to loopback, private, link-local (which holds cloud
// metadata at 169.254.169.254), shared, multicast or reserved addresses. The address is checked when the
// connection is made, after DNS, not only when the URL is saved: a name can point elsewhere later (DNS rebinding).
// OWASP Server-Side Request Forgery Prevention Cheat Sheet, "Case 2"; IANA special-purpose address registries.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { BlockList, isIP } from 'node:net'
import type { Agent } from 'undici'
import type { MessageKey } from '../messages/index.js'

const forbidden = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4]
] as const) forbidden.addSubnet(net, prefix, 'ipv4')
// IPv4-mapped and NAT64 addresses reach IPv4 hosts, private ones included, so neither is allowed at all.
for (const [net, prefix] of [
  ['::', 127], ['::ffff:0:0', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001:db8::', 32],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8]
] as const) forbidden.addSubnet(net, prefix, 'ipv6')

/** Whether an IP address is one a webhook must not reach. */
export function isForbiddenAddress (address: string): boolean {
  const family = isIP(address)
  if (family === 0) return true
  return forbidden.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

export class TargetRefused extends Error {
  readonly code = 'WEBHOOK_TARGET_REFUSED'
}

/**
 * Checks a URL when an endpoint is saved: http(s), no credentials, and (unless allowed) https and a public host. The
 * problem is a catalogue key whose sentence names the field (`{field}`).
 */
export function checkTargetUrl (raw: string, allowPrivate: boolean): MessageKey | undefined {
  const url = URL.parse(raw)
  if (!url || !/^https?:$/.test(url.protocol)) return 'console.webhooks.target.notHttp'
  if (url.username || url.password) return 'console.webhooks.target.credentials'
  if (url.hash) return 'console.webhooks.target.fragment'
  if (allowPrivate) return undefined
  // Subscriber addresses travel in the body: in clear only on a private network, which needs the setting anyway.
  if (url.protocol !== 'https:') return 'console.webhooks.target.https'
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (host === 'localhost' || host.endsWith('.localhost')) return 'console.webhooks.target.thisMachine'
  if (isIP(host) && isForbiddenAddress(host)) return 'console.webhooks.target.private'
  return undefined
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/** dns.lookup that fails when any address of the name is forbidden (one bad address is enough to refuse). */
function guardedLookup (hostname: string, options: { all?: boolean, family?: number } | undefined, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) { callback(err, []); return }
    const bad = addresses.find((a) => isForbiddenAddress(a.address))
    if (bad || addresses.length === 0) {
      callback(new TargetRefused(`${hostname} resolves to ${bad?.address ?? 'nothing'}, an address webhooks may not reach`), [])
      return
    }
    if (options?.all) callback(null, addresses)
    else callback(null, addresses[0].address, addresses[0].family)
  })
}

export interface AgentOptions {
  allowPrivate: boolean
  timeoutMs: number
  /** Connections per target origin. */
  connections: number
}

/**
 * The HTTP agent every delivery uses: its connector checks the address it is about to connect to (names through
 * the guarded lookup; address literals, which skip DNS, directly). Redirects are never followed (undici's
 * default without a redirect interceptor). undici is loaded here, on the first delivery, not at start: a
 * deployment without webhooks does not carry its ~20 MB.
 */
export async function targetAgent (opts: AgentOptions): Promise<Agent> {
  const { Agent, buildConnector } = await import('undici')
  const connector = buildConnector({ timeout: opts.timeoutMs, ...(opts.allowPrivate ? {} : { lookup: guardedLookup as never }) })
  return new Agent({
    connections: opts.connections,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    keepAliveTimeout: 4_000,
    connect: opts.allowPrivate
      ? connector
      : (options, callback) => {
          const host = options.hostname.replace(/^\[|\]$/g, '')
          if (isIP(host) && isForbiddenAddress(host)) {
            callback(new TargetRefused(`${host} is an address webhooks may not reach`), null)
            return
          }
          connector(options, callback)
        }
  })
}
