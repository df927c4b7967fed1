// Picks the page language: PAGE_LANGUAGE when set, else the best match of Accept-Language among the shipped
// languages (RFC 9110 §12.5.4, negotiated by the `accepts` library), else English. Adding a language = adding a file
// like ./en.ts and one line here.
import type { IncomingMessage } from 'node:http'
import accepts from 'accepts'
import { en, type Messages } from './en.js'

export type { Messages } from './en.js'

export const LANGUAGES: Record<string, Messages> = { en }

/** The shipped language for this request: `en-GB` matches `en`; `*`, nothing or no match gives English. */
export function pickLanguage (acceptLanguage: string | undefined, fixed: string | undefined,
  available: Record<string, unknown> = LANGUAGES): string {
  // Own properties only: a header naming `constructor` or `__proto__` must not pick an Object.prototype member.
  if (fixed && Object.hasOwn(available, fixed)) return fixed
  const request = { headers: { 'accept-language': acceptLanguage } } as unknown as IncomingMessage
  return accepts(request).languages(Object.keys(available)) || 'en'
}

export function messagesFor (acceptLanguage: string | undefined, fixed: string | undefined): Messages {
  return LANGUAGES[pickLanguage(acceptLanguage, fixed)]
}
