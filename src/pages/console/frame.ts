// The staff console's frame: the shared page layout (in the request's language, from the same catalogues as the
// visitor pages, with the same language switch), a navigation bar, who is signed in and a sign-out button, and small
// helpers the console pages share.
import { html, raw, type Html } from '../../html.js'
import type { MessageKey } from '../../messages/index.js'
import type { FastifyRequest } from 'fastify'
import { layout, type PageContext } from '../layout.js'
import { pageContext } from '../context.js'
import type { StaffIdentity } from '../../plugins/staff-auth.js'
import { mayAct } from '../../plugins/staff-auth.js'

export interface ConsoleContext {
  page: PageContext
  staff: StaffIdentity
  /** The CSRF token every form of the page carries; empty for header credentials, which need none. */
  csrf: string
  /** The page's own path, to mark the current section. */
  path: string
}

/** The console follows the same language choice as every other page: `?lang=`, the visit's choice, Accept-Language. */
export const consolePageContext = (request: FastifyRequest): PageContext => pageContext(request)

export function consoleContext (request: FastifyRequest, csrf: string): ConsoleContext {
  return { page: consolePageContext(request), staff: request.staff!, csrf, path: request.url.split('?')[0] }
}

const SECTIONS: { href: string, label: MessageKey, role: 'viewer' | 'editor' | 'owner' }[] = [
  { href: '/admin', label: 'console.nav.dashboard', role: 'viewer' },
  { href: '/admin/subscribers', label: 'console.nav.subscribers', role: 'viewer' },
  { href: '/admin/mail', label: 'console.nav.mail', role: 'viewer' },
  { href: '/admin/audit', label: 'console.nav.audit', role: 'viewer' },
  { href: '/admin/import', label: 'console.nav.import', role: 'editor' },
  { href: '/admin/staff', label: 'console.nav.staff', role: 'owner' },
  { href: '/admin/keys', label: 'console.nav.keys', role: 'owner' }
]

/** A hidden CSRF field for a form; nothing when the page was fetched with a header credential. */
export const csrfField = (c: ConsoleContext): Html => c.csrf ? html`<input type="hidden" name="_csrf" value="${c.csrf}">` : html``

const CONSOLE_STYLE = `
.console-nav{border-bottom:1px solid #b1b4b6;margin-bottom:1rem;padding-bottom:.5rem}
.console-nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
.console-nav a[aria-current=page]{font-weight:700;text-decoration:none}
.who{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem;font-size:.95rem;margin:.5rem 0 0}
.who form,.inline{display:inline}
.who button,.inline button,.small{margin:0;padding:.25rem .75rem;font-size:.95rem}
.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:0 1rem;align-items:end}
.filters label{margin-top:.5rem}
input[type=search],input[type=password],input[type=date],input[type=number],select{width:100%;font:inherit;padding:.5rem;border:2px solid #0b0c0c;border-radius:0;background:#fff;color:#0b0c0c}
.notice{border-left:6px solid #00703c;padding:.5rem 1rem;margin:0 0 1rem;background:#f3f2f1}
.warning{border-left:6px solid #d4351c;padding:.5rem 1rem;margin:0 0 1rem;background:#f3f2f1}
dl.facts{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.25rem 1rem}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0;overflow-wrap:anywhere}
td{overflow-wrap:anywhere}
button.danger{background:#d4351c}
`

/** The navigation and who is signed in, with the sign-out buttons; the dashboard shows it too. */
export function consoleNav (c: ConsoleContext): Html {
  const nav = SECTIONS.filter((s) => mayAct(c.staff.role, s.role))
  const current = (href: string) => href === '/admin' ? c.path === '/admin' || c.path === '/admin/' : c.path === href || c.path.startsWith(href + '/')
  const signedInWithSession = c.staff.sessionHash !== undefined
  const { m } = c.page
  return html`<style>${raw(CONSOLE_STYLE)}</style>
<nav class="console-nav" aria-label="${m.t('console.nav.label')}">
<ul>${nav.map((s) => html`<li><a href="${s.href}"${current(s.href) ? raw(' aria-current="page"') : ''}>${m.t(s.label)}</a></li>`)}</ul>
<p class="who">${m.t('console.nav.signedInAs', { who: c.staff.actor.replace(/^staff:/, ''), role: roleName(c, c.staff.role) })}
${signedInWithSession
  ? html`<form method="post" action="/admin/logout">${csrfField(c)}<button type="submit" class="secondary">${m.t('console.nav.signOut')}</button></form>
<form method="post" action="/admin/logout-everywhere">${csrfField(c)}<button type="submit" class="secondary">${m.t('console.nav.signOutEverywhere')}</button></form>`
  : ''}</p>
</nav>`
}

/** A console page: the layout, the navigation, then the page's own body (which starts with its h1). */
export function consolePage (c: ConsoleContext, title: string, body: Html): string {
  return layout(c.page, title, html`${consoleNav(c)}
${body}`, { wide: true })
}

/** A staff role's name in the page's language: `viewer`, `golygydd`. */
export const roleName = (c: ConsoleContext, role: string): string =>
  c.page.m.has(`console.roles.${role}`) ? c.page.m.t(`console.roles.${role}` as MessageKey) : role

/** A stored status (subscriber, subscription, mail) in the page's language; an unknown one as it is. */
export const statusName = (c: ConsoleContext, status: string): string =>
  c.page.m.has(`console.statuses.${status}`) ? c.page.m.t(`console.statuses.${status}` as MessageKey) : status

/** A stored code (ledger event type, method, audit action) in the page's language; an unknown one as it is. */
export const codeName = (c: ConsoleContext, group: 'ledgerTypes' | 'methods' | 'auditActions', code: string): string =>
  c.page.m.has(`console.${group}.${code}`) ? c.page.m.t(`console.${group}.${code}` as MessageKey) : code

/** A UTC timestamp as staff read it: `2026-05-01 14:03 UTC`. */
export const when = (iso: string | null | undefined): string => iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : '—'
