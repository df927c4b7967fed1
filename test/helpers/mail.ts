// Reading the mails a test received: the links in them, the header lines as sent (unfolded, counted), the MIME tree.
import { PUBLIC_URL } from './app.js'
import type { ReceivedMail } from './smtp.js'

/** The first link in a mail's text part that starts with PUBLIC_URL and then path. */
export function linkIn (mail: ReceivedMail, path: string): string {
  const m = new RegExp(`${PUBLIC_URL.replace(/[.]/g, '\\.')}${path}[^\\s<>"]+`).exec(mail.parsed.text ?? '')
  if (!m) throw new Error(`no ${path} link in mail: ${mail.parsed.text}`)
  return m[0]
}

/** The path of a link, to inject() it. */
export const pathOf = (url: string) => new URL(url).pathname

export interface Header { name: string, value: string }

/** The header fields of a raw message or MIME part, unfolded, in order, names as written. */
export function headerFields (raw: string): Header[] {
  const block = raw.split(/\r?\n\r?\n/)[0]
  return block.split(/\r?\n(?=\S)/).map((line) => {
    const at = line.indexOf(':')
    return { name: line.slice(0, at), value: line.slice(at + 1).replace(/\r?\n[ \t]+/g, ' ').trim() }
  })
}

/** How many times a header field occurs (case-insensitive name). */
export const countOf = (raw: string, name: string) =>
  headerFields(raw).filter((h) => h.name.toLowerCase() === name.toLowerCase()).length

export const valueOf = (raw: string, name: string) =>
  headerFields(raw).find((h) => h.name.toLowerCase() === name.toLowerCase())?.value

export interface MimeNode { type: string, children: MimeNode[] }

/** Walks the MIME structure: content types (lower-case, no parameters) of each node and its children. */
export function mimeTree (raw: string): MimeNode {
  const contentType = valueOf(raw, 'content-type') ?? 'text/plain'
  const type = contentType.split(';')[0].trim().toLowerCase()
  const node: MimeNode = { type, children: [] }
  if (!type.startsWith('multipart/')) return node
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1]
  if (!boundary) throw new Error(`multipart without boundary: ${contentType}`)
  const body = raw.slice(raw.search(/\r?\n\r?\n/))
  const parts = body.split(`--${boundary}`).slice(1)
  for (const part of parts) {
    if (part.startsWith('--')) break
    node.children.push(mimeTree(part.replace(/^\r?\n/, '')))
  }
  return node
}

/** Every http(s) URL in the text part, and every href in the HTML part. */
export function linksOf (mail: ReceivedMail): { text: string[], html: string[] } {
  const text = [...(mail.parsed.text ?? '').matchAll(/https?:\/\/[^\s<>"]+/g)].map((m) => m[0])
  const html = [...String(mail.parsed.html ?? '').matchAll(/href="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&'))
  return { text: [...new Set(text)], html: [...new Set(html)] }
}
