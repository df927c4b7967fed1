// Owner pages: staff accounts (invite, change a role, disable, a new password link) and API keys (create, shown
// once; list with last use; revoke).
import { html, type Html } from '../../html.js'
import type { ApiKey } from '../../domain/api-keys.js'
import { STAFF_ROLES, type StaffAccount } from '../../domain/staff.js'
import { consolePage, csrfField, roleName, when, type ConsoleContext } from './frame.js'

const roleSelect = (c: ConsoleContext, id: string, selected: string, label: Html | string) => html`<label for="${id}">${label}</label><select id="${id}" name="role">${STAFF_ROLES.map((r) => html`<option value="${r}"${r === selected ? html` selected` : ''}>${roleName(c, r)}</option>`)}</select>`

const rolesHelp = (c: ConsoleContext) => html`<p class="hint">${c.page.m.t('console.staff.rolesHelp')}</p>`

const problem = (c: ConsoleContext, error: string, field: string) =>
  html`<div class="error-summary" role="alert"><h2>${c.page.m.t('console.common.problem')}</h2><ul><li><a href="#${field}">${error}</a></li></ul></div>`

export function staffPage (c: ConsoleContext, accounts: StaffAccount[], shown?: { email: string, link: string, mailed?: boolean }, error?: string): string {
  const { m } = c.page
  const hidden = (text: string) => html`<span class="visually-hidden">${text}</span>`
  return consolePage(c, m.t('console.staff.title'), html`
<h1>${m.t('console.staff.title')}</h1>
${error ? problem(c, error, 'email') : ''}
${shown ? html`<div class="notice" role="status"><p>${m.t(shown.mailed ? 'console.staff.mailedLink' : 'console.staff.sendLink', { email: shown.email })}</p><p><code>${shown.link}</code></p></div>` : ''}
<h2 id="accounts">${m.t('console.staff.accounts')}</h2>
<div class="table-scroll" tabindex="0" role="region" aria-labelledby="accounts"><table>
<thead><tr><th scope="col">${m.t('console.common.address')}</th><th scope="col">${m.t('console.common.role')}</th><th scope="col">${m.t('console.common.state')}</th><th scope="col">${m.t('console.staff.lastLogin')}</th><th scope="col">${m.t('console.staff.change')}</th></tr></thead>
<tbody>${accounts.map((a) => html`<tr><td>${a.email}</td><td>${roleName(c, a.role)}</td><td>${m.t(a.disabled ? 'console.staff.disabled' : a.hasPassword ? 'console.staff.active' : 'console.staff.invited')}</td><td>${when(a.lastLoginAt)}</td>
<td><form class="inline" method="post" action="/admin/staff/${a.id}/role">${csrfField(c)}${roleSelect(c, `role-${a.id}`, a.role, hidden(m.t('console.staff.roleOf', { email: a.email })))}<button type="submit" class="small secondary">${m.t('console.staff.changeRole')}${hidden(m.t('console.staff.ofAccount', { email: a.email }))}</button></form>
<form class="inline" method="post" action="/admin/staff/${a.id}/${a.disabled ? 'enable' : 'disable'}">${csrfField(c)}<button type="submit" class="small secondary">${m.t(a.disabled ? 'console.staff.enable' : 'console.staff.disable')}${hidden(` ${a.email}`)}</button></form>
${a.disabled
? ''
: html`<form class="inline" method="post" action="/admin/staff/${a.id}/link">${csrfField(c)}<button type="submit" class="small secondary">${m.t('console.staff.newLink')}${hidden(m.t('console.staff.forAccount', { email: a.email }))}</button></form>
<form class="inline" method="post" action="/admin/staff/${a.id}/link">${csrfField(c)}<input type="hidden" name="mail" value="on"><button type="submit" class="small secondary">${m.t('console.staff.mailNewLink')}${hidden(m.t('console.staff.toAccount', { email: a.email }))}</button></form>`}</td></tr>`)}</tbody>
</table></div>
<h2>${m.t('console.staff.invite')}</h2>
${rolesHelp(c)}
<form method="post" action="/admin/staff">${csrfField(c)}
<label for="email">${m.t('console.login.email')}</label>
<input type="email" id="email" name="email" autocomplete="off" spellcheck="false" required>
${roleSelect(c, 'role', 'viewer', m.t('console.common.role'))}
<div class="checkbox"><input type="checkbox" id="mail" name="mail" value="on" checked><label for="mail">${m.t('console.staff.mailCheckbox')}</label></div>
<button type="submit">${m.t('console.staff.inviteButton')}</button>
</form>`)
}

export function keysPage (c: ConsoleContext, keys: ApiKey[], created?: { name: string, secret: string }, error?: string): string {
  const { m } = c.page
  return consolePage(c, m.t('console.keys.title'), html`
<h1>${m.t('console.keys.title')}</h1>
<p>${m.t('console.keys.intro')} <code>Authorization: Bearer jl_…</code>. ${m.t('console.keys.introRole')}</p>
${error ? problem(c, error, 'name') : ''}
${created ? html`<div class="notice" role="status"><p>${m.t('console.keys.created', { name: created.name })}</p><p><code>${created.secret}</code></p></div>` : ''}
<h2 id="keys">${m.t('console.keys.keys')}</h2>
${keys.length === 0
  ? html`<p>${m.t('console.keys.none')}</p>`
  : html`<div class="table-scroll" tabindex="0" role="region" aria-labelledby="keys"><table>
<thead><tr><th scope="col">${m.t('console.keys.name')}</th><th scope="col">${m.t('console.common.role')}</th><th scope="col">${m.t('console.keys.prefix')}</th><th scope="col">${m.t('console.keys.createdAt')}</th><th scope="col">${m.t('console.keys.expires')}</th><th scope="col">${m.t('console.keys.lastUsed')}</th><th scope="col">${m.t('console.common.state')}</th></tr></thead>
<tbody>${keys.map((k) => html`<tr><td>${k.name}</td><td>${roleName(c, k.role)}</td><td><code>${k.prefix}…</code></td><td>${m.t('console.keys.createdBy', { when: when(k.createdAt), who: k.createdBy })}</td><td>${k.expiresAt ? when(k.expiresAt) : m.t('console.keys.never')}</td><td>${when(k.lastUsedAt)}</td>
<td>${k.revokedAt ? m.t('console.keys.revoked', { when: when(k.revokedAt) }) : html`<form class="inline" method="post" action="/admin/keys/${k.id}/revoke">${csrfField(c)}<button type="submit" class="small secondary">${m.t('console.keys.revoke')}<span class="visually-hidden"> ${k.name}</span></button></form>`}</td></tr>`)}</tbody>
</table></div>`}
<h2>${m.t('console.keys.create')}</h2>
${rolesHelp(c)}
<form method="post" action="/admin/keys">${csrfField(c)}
<label for="name">${m.t('console.keys.name')}</label>
<p class="hint" id="name-hint">${m.t('console.keys.nameHint')}</p>
<input type="text" id="name" name="name" maxlength="100" aria-describedby="name-hint" required>
${roleSelect(c, 'role', 'viewer', m.t('console.common.role'))}
<label for="days">${m.t('console.keys.days')}</label>
<p class="hint" id="days-hint">${m.t('console.keys.daysHint')}</p>
<input type="number" id="days" name="days" min="1" max="3650" aria-describedby="days-hint">
<button type="submit">${m.t('console.keys.createButton')}</button>
</form>`)
}
