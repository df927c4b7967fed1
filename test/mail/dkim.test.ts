// DKIM: mails signed with the configured key verify with a real DKIM verifier (mailauth) against the DNS record
// an operator would publish, and the signature covers the one-click unsubscribe headers, List-Unsubscribe and List-Unsubscribe-Post
// (RFC 8058 §4).
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { dkimVerify } from 'mailauth/lib/dkim/verify.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { dkimAligned, dkimDnsRecord, dkimSigning } from '../../src/mail/dkim.js'
import { buildTestApp, json, testConfig } from '../helpers/app.js'
import { linkIn, pathOf, valueOf } from '../helpers/mail.js'

const DOMAIN = 'mail.example.org'
const SELECTOR = 'jl2026'

function rsaKey (bits = 2048): string {
  return generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}

/** A DNS resolver that knows one record: the TXT at <selector>._domainkey.<domain>, as README tells staff to publish. */
const resolverFor = (record: string) => async (name: string, type: string) => {
  if (type === 'TXT' && name === `${SELECTOR}._domainkey.${DOMAIN}`) return [[record]]
  throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' })
}

const signedFields = (raw: string) =>
  /(?:^|;)\s*h=([^;]+)/.exec(valueOf(raw, 'DKIM-Signature') ?? '')?.[1].replace(/\s+/g, '').toLowerCase().split(':') ?? []

t.test('mails are DKIM-signed: they verify against the published key, and h= covers the list headers', async (t) => {
  const key = rsaKey()
  const dir = mkdtempSync(join(tmpdir(), 'joinlist-dkim-'))
  writeFileSync(join(dir, 'dkim.pem'), key, { mode: 0o600 })
  const { app, smtp } = await buildTestApp(t, { DKIM_DOMAIN: DOMAIN, DKIM_SELECTOR: SELECTOR, DKIM_PRIVATE_KEY_FILE: join(dir, 'dkim.pem') })
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'fay@example.org', name: 'Fay' }) })
  const [confirmation] = await smtp.waitFor(1)
  await app.inject({ method: 'POST', url: pathOf(linkIn(confirmation, '/confirm/')), headers: { accept: 'text/html' } })
  const [, welcome] = await smtp.waitFor(2)
  const resolver = resolverFor(dkimDnsRecord(key))

  for (const [kind, mail] of [['confirmation', confirmation], ['welcome', welcome]] as const) {
    const result = await dkimVerify(Buffer.from(mail.raw), { resolver })
    t.equal(result.results.length, 1, `${kind}: one signature`)
    t.equal(result.results[0].status.result, 'pass', `${kind}: DKIM pass`)
    t.equal(result.results[0].signingDomain, DOMAIN)
    t.equal(result.results[0].status.aligned, DOMAIN, `${kind}: aligned with From (DMARC)`)
    const h = signedFields(mail.raw)
    for (const field of ['from', 'to', 'subject', 'date', 'message-id', 'auto-submitted', 'mime-version', 'content-type']) {
      t.ok(h.includes(field), `${kind}: h= covers ${field}`)
    }
  }
  const h = signedFields(welcome.raw)
  t.ok(h.includes('list-unsubscribe'), 'h= covers List-Unsubscribe')
  t.ok(h.includes('list-unsubscribe-post'), 'h= covers List-Unsubscribe-Post (RFC 8058 §4)')
  t.ok(h.includes('list-id'), 'h= covers List-Id')
})

t.test('a mail changed after signing fails verification (the verifier really checks)', async (t) => {
  const key = rsaKey()
  const { app, smtp } = await buildTestApp(t, { DKIM_DOMAIN: DOMAIN, DKIM_SELECTOR: SELECTOR, DKIM_PRIVATE_KEY: key.replace(/\n/g, '\\n') })
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'gus@example.org' }) })
  const [mail] = await smtp.waitFor(1)
  const resolver = resolverFor(dkimDnsRecord(key))
  t.equal((await dkimVerify(Buffer.from(mail.raw), { resolver })).results[0].status.result, 'pass', 'a PEM given on one line with \\n works')
  const tampered = mail.raw.replace(/^Subject: .*$/m, 'Subject: You won a prize')
  t.equal((await dkimVerify(Buffer.from(tampered), { resolver })).results[0].status.result, 'fail')
  const otherKey = resolverFor(dkimDnsRecord(rsaKey()))
  t.equal((await dkimVerify(Buffer.from(mail.raw), { resolver: otherKey })).results[0].status.result, 'fail', 'and a different published key fails')
})

t.test('without DKIM settings nothing is signed', async (t) => {
  const { app, smtp } = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'hal@example.org' }) })
  const [mail] = await smtp.waitFor(1)
  t.equal(valueOf(mail.raw, 'DKIM-Signature'), undefined)
})

t.test('a bad DKIM setting stops the start with one line naming the variable', async (t) => {
  t.throws(() => loadConfig({ DKIM_DOMAIN: DOMAIN }), new ConfigError('DKIM_DOMAIN: DKIM needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY (or DKIM_PRIVATE_KEY_FILE) together'))
  t.throws(() => loadConfig({ DKIM_DOMAIN: DOMAIN, DKIM_SELECTOR: SELECTOR, DKIM_PRIVATE_KEY: 'nope' }), /^DKIM_PRIVATE_KEY: must be a PEM private key/)
  t.throws(() => loadConfig({ DKIM_DOMAIN: DOMAIN, DKIM_SELECTOR: SELECTOR, DKIM_PRIVATE_KEY: rsaKey(), DKIM_PRIVATE_KEY_FILE: '/x' }), /^DKIM_PRIVATE_KEY_FILE: set either/)
  t.throws(() => loadConfig({ DKIM_DOMAIN: 'not a domain', DKIM_SELECTOR: SELECTOR, DKIM_PRIVATE_KEY_FILE: '/x' }), /^DKIM_DOMAIN: must be a domain name/)
  const dkim = (env: Record<string, string>) => dkimSigning(testConfig({ DKIM_DOMAIN: DOMAIN, DKIM_SELECTOR: SELECTOR, ...env }))
  t.throws(() => dkim({ DKIM_PRIVATE_KEY_FILE: '/nonexistent/dkim.pem' }), /^DKIM_PRIVATE_KEY_FILE: cannot read \/nonexistent\/dkim\.pem \(ENOENT\)$/)
  t.throws(() => dkim({ DKIM_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----' }), /^DKIM_PRIVATE_KEY: not a PEM private key$/)
  const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  t.throws(() => dkim({ DKIM_PRIVATE_KEY: ed25519 }), /^DKIM_PRIVATE_KEY: must be an RSA key/)
  t.throws(() => dkim({ DKIM_PRIVATE_KEY: rsaKey(512) }), /at least 1024 bits/)
})

t.test('DMARC alignment of the DKIM domain with the From domain (relaxed: parent or subdomain)', async (t) => {
  t.ok(dkimAligned('mail.example.org', 'mail.example.org'))
  t.ok(dkimAligned('mail.example.org', 'example.org'), 'd= the parent domain')
  t.ok(dkimAligned('example.org', 'news.example.org'))
  t.notOk(dkimAligned('example.org', 'example.net'))
  t.notOk(dkimAligned('example.org', 'badexample.org'), 'a suffix that is not a label boundary')
})
