// The message catalogues: one folder per language in locales/ (messages.json and the mail templates), found at
// start, so adding a language is adding a folder. English is the reference: every other catalogue must have each of
// its keys, with the same placeholders. Plurals follow Intl.PluralRules (CLDR): Welsh has six forms, English two.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { IncomingMessage } from 'node:http'
import accepts from 'accepts'

/** The shipped languages (the package's locales/ folder, from src/messages or dist/messages alike). */
export const LOCALES_DIR = fileURLToPath(new URL('../../locales/', import.meta.url))

type English = typeof import('../../locales/en/messages.json')
/** A plural entry: one text per CLDR category the language uses; `other` is always there. */
type Plural = { other: string }
type Keys<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends string | Plural ? `${P}${K}` : Keys<T[K], `${P}${K}.`>
}[keyof T & string]
/** Every key of the English catalogue, dotted: `signup.title`, `time.minutes`. */
export type MessageKey = Keys<English>
export type Vars = Record<string, string | number>

export interface Messages {
  /** BCP 47 tag, also the folder name: `en`, `cy`. */
  lang: string
  /** The language's own name, for the language switch: `Cymraeg`. */
  name: string
  /** The text for a key with its `{placeholders}` filled in; a plural entry picks its form by `vars.count`. */
  t (key: MessageKey, vars?: Vars): string
  /** Whether a string is a catalogue key (validation errors carry keys, translated when answered). */
  has (key: string): key is MessageKey
}

type Tree = { [key: string]: string | Tree }

/** A catalogue problem found at start: the message names the file and key. */
export class CatalogueError extends Error {}

const isPlural = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>).other === 'string' &&
  Object.values(v).every((x) => typeof x === 'string')

/** key → text or plural forms, flattened. */
function flatten (tree: Tree, prefix = '', out = new Map<string, string | Record<string, string>>()) {
  for (const [k, v] of Object.entries(tree)) {
    if (typeof v === 'string' || isPlural(v)) out.set(prefix + k, v as string | Record<string, string>)
    else if (typeof v === 'object' && v !== null) flatten(v, `${prefix}${k}.`, out)
  }
  return out
}

const placeholders = (v: string | Record<string, string>) =>
  new Set((typeof v === 'string' ? [v] : Object.values(v)).flatMap((s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1])))

/**
 * What a catalogue lacks compared with English: keys it misses, and entries whose placeholders differ (a missing
 * `{email}` would drop the address from a sentence). Empty when complete.
 */
export function catalogueProblems (english: Tree, other: Tree): string[] {
  const en = flatten(english)
  const it = flatten(other)
  const problems: string[] = []
  for (const [key, value] of en) {
    const theirs = it.get(key)
    if (theirs === undefined) { problems.push(`missing key ${key}`); continue }
    if (typeof value !== typeof theirs) { problems.push(`${key} must be ${typeof value === 'string' ? 'a text' : 'plural forms'}`); continue }
    const want = [...placeholders(value)].sort().join(',')
    const got = [...placeholders(theirs)].sort().join(',')
    if (want !== got) problems.push(`${key} has placeholders {${got}}, English has {${want}}`)
  }
  return problems
}

function messages (lang: string, tree: Tree): Messages {
  const flat = flatten(tree)
  const rules = new Intl.PluralRules(lang)
  const fill = (text: string, vars: Vars) => text.replace(/\{(\w+)\}/g, (m, name: string) =>
    Object.hasOwn(vars, name) ? String(vars[name]) : m)
  return {
    lang,
    name: String(flat.get('meta.name')),
    t (key, vars = {}) {
      const entry = flat.get(key)
      if (entry === undefined) return key
      if (typeof entry === 'string') return fill(entry, vars)
      const count = Number(vars.count ?? 0)
      return fill(entry[rules.select(count)] ?? entry.other, vars)
    },
    has: (key: string): key is MessageKey => flat.has(key)
  }
}

/** Reads every `locales/<lang>/messages.json`; throws a CatalogueError naming the file if one is incomplete. */
export function loadCatalogues (dir: string = LOCALES_DIR): Record<string, Messages> {
  const read = (lang: string): Tree => {
    const file = join(dir, lang, 'messages.json')
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Tree
    } catch (err) {
      throw new CatalogueError(`${file}: cannot read the message catalogue (${(err as Error).message})`)
    }
  }
  const english = read('en')
  const languages: Record<string, Messages> = { en: messages('en', english) }
  const folders = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'en' && existsSync(join(dir, d.name, 'messages.json')))
    .map((d) => d.name).sort()
  for (const lang of folders) {
    const tree = read(lang)
    const problems = catalogueProblems(english, tree)
    if (problems.length > 0) throw new CatalogueError(`${join(dir, lang, 'messages.json')}: ${problems.join('; ')}`)
    languages[lang.toLowerCase()] = messages(lang, tree)
  }
  return languages
}

export const LANGUAGES: Record<string, Messages> = loadCatalogues()

/** The shipped language for this request: `en-GB` matches `en`; `*`, nothing or no match gives English. */
export function pickLanguage (acceptLanguage: string | undefined, fixed: string | undefined,
  available: Record<string, unknown> = LANGUAGES): string {
  // Own properties only: a header naming `constructor` or `__proto__` must not pick an Object.prototype member.
  if (fixed && Object.hasOwn(available, fixed)) return fixed
  const request = { headers: { 'accept-language': acceptLanguage } } as unknown as IncomingMessage
  return accepts(request).languages(Object.keys(available)) || 'en'
}

/** The messages of a shipped language, English for anything else (a stored language no longer shipped). */
export const messagesIn = (lang: string | null | undefined): Messages =>
  lang && Object.hasOwn(LANGUAGES, lang) ? LANGUAGES[lang] : LANGUAGES.en

/**
 * A message whose reader's language is not known where it is raised (a domain error, a refusal deep in a route):
 * its catalogue key and values. A value may itself be a Said, translated in the same language.
 */
export interface Said { key: MessageKey, vars?: Record<string, string | number | Said> }

const isSaid = (v: unknown): v is Said => typeof v === 'object' && v !== null && typeof (v as Said).key === 'string'

/** A Said as one string, for the places that carry only text (a zod issue's message): `key {"name":"value"}`. */
export const keyed = (key: MessageKey, vars?: Record<string, string | number>): string =>
  vars ? `${key} ${JSON.stringify(vars)}` : key

/**
 * A message in a language: a Said, a catalogue key or a keyed() string is translated; any other text (a library's
 * own message) is given as it is.
 */
export function inLanguage (m: Messages, message: string | Said): string {
  if (isSaid(message)) {
    const vars: Vars = {}
    for (const [name, v] of Object.entries(message.vars ?? {})) vars[name] = isSaid(v) ? inLanguage(m, v) : v
    return m.t(message.key, vars)
  }
  const match = /^([\w.]+)(?: (\{.*\}))?$/s.exec(message)
  if (!match || !m.has(match[1])) return message
  let vars: Vars = {}
  try { vars = match[2] ? JSON.parse(match[2]) as Vars : {} } catch { return message }
  return m.t(match[1], vars)
}

/** The English text of a message: what logs, the command line and Error.message carry. */
export const inEnglish = (message: string | Said): string => inLanguage(LANGUAGES.en, message)

/** An error whose message is a Said: `message` is its English text; answers translate `said`. */
export class SaidError extends Error {
  readonly said?: Said
  constructor (message: string | Said) {
    super(inEnglish(message))
    if (typeof message !== 'string') this.said = message
  }
}

/** A duration in whole seconds, in words, rounded up to the unit people wait in: "1 minute", "2 funud". */
export function duration (m: Messages, seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds))
  if (s < 60) return m.t('time.seconds', { count: s })
  if (s < 3600) return m.t('time.minutes', { count: Math.ceil(s / 60) })
  if (s < 172_800) return m.t('time.hours', { count: Math.ceil(s / 3600) })
  return m.t('time.days', { count: Math.ceil(s / 86_400) })
}
