// DKIM signing options for nodemailer from the config: the key is read and checked once, at start.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Config } from '../config.js'
import { ConfigError } from '../config.js'

/**
 * The headers the signature covers (h=). Set explicitly: RFC 8058 §4 requires List-Unsubscribe and
 * List-Unsubscribe-Post to be signed, and nodemailer's default list leaves the latter out.
 * Absent headers are skipped by the signer, so one list serves the confirmation and the welcome mail.
 */
export const DKIM_SIGNED_HEADERS = [
  'From', 'To', 'Subject', 'Date', 'Message-ID', 'Reply-To',
  'List-Id', 'List-Unsubscribe', 'List-Unsubscribe-Post', 'Auto-Submitted',
  'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding'
]

export interface DkimSigning {
  domainName: string
  keySelector: string
  privateKey: string
  headerFieldNames: string
}

type DkimConfig = Pick<Config, 'dkimDomain' | 'dkimSelector' | 'dkimPrivateKey' | 'dkimPrivateKeyFile'>

function readKey (config: DkimConfig): { pem: string, key: KeyObject } {
  let pem = config.dkimPrivateKey
  const variable = pem ? 'DKIM_PRIVATE_KEY' : 'DKIM_PRIVATE_KEY_FILE'
  if (!pem) {
    try {
      pem = readFileSync(config.dkimPrivateKeyFile!, 'utf8')
    } catch (err) {
      throw new ConfigError(`DKIM_PRIVATE_KEY_FILE: cannot read ${config.dkimPrivateKeyFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  let key: KeyObject
  try {
    key = createPrivateKey(pem)
  } catch {
    throw new ConfigError(`${variable}: not a PEM private key`)
  }
  // nodemailer signs rsa-sha256 only; receivers ignore keys under 1024 bits (RFC 8301 §3.2).
  if (key.asymmetricKeyType !== 'rsa') throw new ConfigError(`${variable}: must be an RSA key (rsa-sha256)`)
  if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 1024) throw new ConfigError(`${variable}: the RSA key must have at least 1024 bits (2048 recommended)`)
  return { pem, key }
}

/** nodemailer `dkim` options, or undefined when DKIM is not configured. Throws a ConfigError on a bad key. */
export function dkimSigning (config: DkimConfig): DkimSigning | undefined {
  // The config check makes the three come together: the domain stands for all of them.
  if (!config.dkimDomain || !config.dkimSelector) return undefined
  const { pem } = readKey(config)
  return {
    domainName: config.dkimDomain,
    keySelector: config.dkimSelector,
    privateKey: pem,
    headerFieldNames: DKIM_SIGNED_HEADERS.join(':')
  }
}

/** The DNS TXT record to publish at <selector>._domainkey.<domain> for this private key (RFC 6376 §3.6.1). */
export function dkimDnsRecord (privateKeyPem: string): string {
  const spki = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'der' })
  return `v=DKIM1; k=rsa; p=${spki.toString('base64')}`
}

/**
 * Whether a DKIM pass counts for DMARC: relaxed alignment (RFC 7489 §3.1.1) wants d= to share the From domain's
 * organisational domain. Approximated as: one domain equals or is a subdomain of the other.
 */
export function dkimAligned (fromDomain: string, dkimDomain: string): boolean {
  const from = fromDomain.toLowerCase()
  const d = dkimDomain.toLowerCase()
  return from === d || from.endsWith(`.${d}`) || d.endsWith(`.${from}`)
}
