// The lists people can join: reading them (cached briefly, they change rarely and every sign-up needs them),
// and the staff's create, rename and archive, shared by the JSON API and the CLI.
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import { isoSql } from '../db/sql.js'
import { ensureConsentText } from './consent.js'
import { listEvents } from './events.js'
import { SaidError, type Said } from '../messages/index.js'

export interface List {
  id: number
  slug: string
  /** The list's own name, or the LIST_NAME setting for a list without one. */
  name: string
  description: string | null
  public: boolean
  isDefault: boolean
  /** consent_texts.version shown on its sign-ups: its own, or the CONSENT_TEXT setting's. */
  consentTextVersion: number
  /** Its own consent wording, shown beside it on forms; null: the CONSENT_TEXT setting. */
  ownConsentText: string | null
  /** Whether confirming sends a welcome mail: its own setting, or WELCOME_EMAIL. */
  welcomeEmail: boolean
  createdAt: string
  archivedAt: string | null
}

export interface ListSettings {
  /** LIST_NAME: the name of a list that has none of its own (the list every deployment starts with). */
  listName: string
  consentTextVersion: number
  welcomeEmail: boolean
}

/** A staff change that cannot be made: `status` is the HTTP status it maps to. */
export class ListError extends SaidError {
  constructor (readonly status: 400 | 404 | 409, readonly code: string, message: string | Said) { super(message) }
}

export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,62})$/
export const SLUG_RULE = 'a slug is 1 to 63 lower-case letters, digits and hyphens, starting with a letter or digit'

export interface NewList {
  slug: string
  name: string
  description?: string
  public?: boolean
  isDefault?: boolean
  consentText?: string
  welcomeEmail?: boolean
}

export interface ListChange {
  name?: string
  description?: string | null
  public?: boolean
  isDefault?: boolean
  consentText?: string
  welcomeEmail?: boolean
  archived?: boolean
}

interface ListRow {
  id: number
  slug: string
  name: string | null
  description: string | null
  public: boolean
  is_default: boolean
  consent_text_version: number | null
  consent_text: string | null
  welcome_email: boolean | null
  created_at: string
  archived_at: string | null
}

/** How long another instance's change to the lists may take to be seen here. */
const CACHE_MS = 5_000

export class Lists {
  private cached?: { at: number, lists: List[] }
  private loading?: Promise<List[]>

  constructor (private readonly database: Database, private readonly settings: ListSettings,
    private readonly now: () => Date = () => new Date()) {}

  /** Every list, archived ones too, oldest first. */
  async all (): Promise<List[]> {
    if (this.cached && Date.now() - this.cached.at < CACHE_MS) return this.cached.lists
    return await this.reload()
  }

  private reload (): Promise<List[]> {
    this.loading ??= this.database.rows<ListRow>(sql`
      SELECT id, slug, name, description, public, is_default, consent_text_version, welcome_email,
        (SELECT c.text FROM consent_texts c WHERE c.version = lists.consent_text_version) AS consent_text,
        ${isoSql('created_at')} AS created_at, ${isoSql('archived_at')} AS archived_at
      FROM lists ORDER BY id`)
      .then((rows) => {
        const lists = rows.map((r) => this.fromRow(r))
        this.cached = { at: Date.now(), lists }
        return lists
      })
      .finally(() => { this.loading = undefined })
    return this.loading
  }

  private fromRow (r: ListRow): List {
    return {
      id: Number(r.id),
      slug: r.slug,
      name: r.name ?? this.settings.listName,
      description: r.description,
      public: r.public,
      isDefault: r.is_default,
      consentTextVersion: r.consent_text_version === null ? this.settings.consentTextVersion : Number(r.consent_text_version),
      ownConsentText: r.consent_text,
      welcomeEmail: r.welcome_email ?? this.settings.welcomeEmail,
      createdAt: r.created_at,
      archivedAt: r.archived_at
    }
  }

  /** The lists open to sign-ups (not archived). */
  async active (): Promise<List[]> {
    return (await this.all()).filter((l) => !l.archivedAt)
  }

  /** The lists a visitor is offered: public and open. */
  async offered (): Promise<List[]> {
    return (await this.active()).filter((l) => l.public)
  }

  /** Whether more than one list is open: then forms show a choice and mails name and link their list. */
  async several (): Promise<boolean> {
    return (await this.active()).length > 1
  }

  async bySlug (slug: string): Promise<List | undefined> {
    const find = (lists: List[]) => lists.find((l) => l.slug === slug)
    // A list made by another instance a moment ago is not in the cache yet.
    return find(await this.all()) ?? find(await this.reload())
  }

  async byId (id: number): Promise<List | undefined> {
    const find = (lists: List[]) => lists.find((l) => l.id === id)
    return find(await this.all()) ?? find(await this.reload())
  }

  /**
   * The lists a visitor's sign-up asks for: the default lists when none is named. Any slug that is unknown, hidden
   * or archived makes it fail with the slugs named, so a form with a mistyped list never signs anyone up half-way.
   */
  async forSignup (slugs: string[] | undefined): Promise<{ lists: List[] } | { refused: string[] }> {
    if (!slugs || slugs.length === 0) {
      const defaults = (await this.offered()).filter((l) => l.isDefault)
      return { lists: defaults.length ? defaults : (await this.offered()).slice(0, 1) }
    }
    let open = await this.offered()
    if (slugs.some((s) => !open.some((l) => l.slug === s))) {
      await this.reload()
      open = await this.offered()
    }
    const unique = [...new Set(slugs)]
    const refused = unique.filter((s) => !open.some((l) => l.slug === s))
    if (refused.length) return { refused }
    return { lists: open.filter((l) => unique.includes(l.slug)) }
  }

  async create (input: NewList): Promise<List> {
    checkSlug(input.slug)
    const name = checkName(input.name)
    const consentTextVersion = input.consentText === undefined ? null : await ensureConsentText(this.database, checkConsentText(input.consentText))
    const now = this.now().toISOString()
    const rows = await this.database.rows<ListRow>(sql`
      WITH made AS (
        INSERT INTO lists (slug, name, description, public, is_default, consent_text_version, welcome_email, created_at)
        VALUES (${input.slug}, ${name}, ${input.description ?? null}, ${input.public ?? true}, ${input.isDefault ?? false},
          ${consentTextVersion}, ${input.welcomeEmail ?? null}, ${now})
        ON CONFLICT (slug) DO NOTHING
        RETURNING id, slug, name
      ), event AS (${listEvents('list.created', 'made', this.settings.listName, now)})
      SELECT id FROM made`)
    if (rows.length === 0) throw new ListError(409, 'conflict', { key: 'console.api.listExists', vars: { slug: input.slug } })
    await this.reload()
    return (await this.bySlug(input.slug))!
  }

  /**
   * Renames, re-describes, hides or shows, archives or reopens a list. A change that would leave visitors no list to
   * join by default (no public, open, default list) is refused: the sign-up form would have nothing to offer.
   */
  async update (slug: string, change: ListChange): Promise<List> {
    const name = change.name === undefined ? undefined : checkName(change.name)
    const consentTextVersion = change.consentText === undefined ? undefined : await ensureConsentText(this.database, checkConsentText(change.consentText))
    const now = this.now().toISOString()
    const [row] = await this.database.rows<{ id: number | null, allowed: boolean | null }>(sql`
      WITH target AS (
        SELECT id,
          CASE WHEN ${name !== undefined} THEN ${name ?? null} ELSE name END AS name,
          CASE WHEN ${change.description !== undefined} THEN ${change.description ?? null} ELSE description END AS description,
          coalesce(${change.public ?? null}::boolean, public) AS public,
          coalesce(${change.isDefault ?? null}::boolean, is_default) AS is_default,
          coalesce(${consentTextVersion ?? null}::int, consent_text_version) AS consent_text_version,
          coalesce(${change.welcomeEmail ?? null}::boolean, welcome_email) AS welcome_email,
          CASE WHEN ${change.archived ?? null}::boolean IS NULL THEN archived_at
            WHEN ${change.archived ?? null}::boolean THEN coalesce(archived_at, ${now}::timestamptz) END AS archived_at,
          archived_at IS NULL AS was_open
        FROM lists WHERE slug = ${slug} FOR UPDATE
      ), allowed AS (
        SELECT (t.public AND t.is_default AND t.archived_at IS NULL) OR EXISTS (
          SELECT 1 FROM lists o WHERE o.id <> t.id AND o.public AND o.is_default AND o.archived_at IS NULL) AS ok
        FROM target t
      ), updated AS (
        UPDATE lists l SET name = t.name, description = t.description, public = t.public, is_default = t.is_default,
          consent_text_version = t.consent_text_version, welcome_email = t.welcome_email, archived_at = t.archived_at
        FROM target t, allowed a WHERE l.id = t.id AND a.ok
        RETURNING l.id, l.slug, l.name, l.archived_at
      ), archived AS (
        SELECT u.* FROM updated u JOIN target t ON t.id = u.id WHERE t.was_open AND u.archived_at IS NOT NULL
      ), event AS (${listEvents('list.archived', 'archived', this.settings.listName, now)}
      )
      SELECT (SELECT id FROM target) AS id, (SELECT ok FROM allowed) AS allowed`)
    if (!row || row.id === null) throw new ListError(404, 'not_found', { key: 'console.api.noList', vars: { slug } })
    if (!row.allowed) {
      throw new ListError(409, 'conflict', { key: 'console.api.noDefaultLeft' })
    }
    const rows = [row]
    await this.reload()
    return (await this.byId(Number(rows[0].id)))!
  }

  /** Each list with how many subscriptions it has in each state. */
  async counts (): Promise<Map<number, Record<'pending' | 'confirmed' | 'unsubscribed', number>>> {
    const rows = await this.database.rows<{ list_id: number, status: string, n: number }>(sql`
      SELECT list_id, status, count(*)::int AS n FROM subscriptions GROUP BY list_id, status`)
    const counts = new Map<number, Record<'pending' | 'confirmed' | 'unsubscribed', number>>()
    for (const r of rows) {
      const c = counts.get(Number(r.list_id)) ?? { pending: 0, confirmed: 0, unsubscribed: 0 }
      c[r.status as 'pending'] = Number(r.n)
      counts.set(Number(r.list_id), c)
    }
    return counts
  }
}

function checkSlug (slug: string): void {
  if (!SLUG_PATTERN.test(slug)) throw new ListError(400, 'invalid_slug', { key: 'console.api.invalidSlug', vars: { slug } })
}

function checkName (name: string): string {
  const trimmed = name.trim()
  if (!trimmed || trimmed.length > 100 || /[\p{Cc}]/u.test(trimmed)) {
    throw new ListError(400, 'invalid_name', { key: 'console.api.listName' })
  }
  return trimmed
}

function checkConsentText (text: string): string {
  const trimmed = text.trim()
  if (!trimmed || trimmed.length > 2000) throw new ListError(400, 'invalid_consent_text', { key: 'console.api.consentTextLength' })
  return trimmed
}
