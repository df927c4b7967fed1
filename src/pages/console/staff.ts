// Owner pages: staff accounts (invite, change a role, disable, a new password link) and API keys (create, shown
// once; list with last use; revoke).
import { html, type Html } from '../../html.js'
import type { ApiKey } from '../../domain/api-keys.js'
import { PASSWORD_LINK_HOURS, STAFF_ROLES, type StaffAccount } from '../../domain/staff.js'
import { consolePage, csrfField, when, type ConsoleContext } from './frame.js'

const roleSelect = (id: string, selected: string, label: Html | string) => html`<label for="${id}">${label}</label><select id="${id}" name="role">${STAFF_ROLES.map((r) => html`<option value="${r}"${r === selected ? html` selected` : ''}>${r}</option>`)}</select>`

const ROLES_HELP = html`<p class="hint">A viewer sees and exports; an editor also unsubscribes, erases, resends confirmations and retries mail; an owner also manages staff accounts, API keys and webhooks.</p>`

export function staffPage (c: ConsoleContext, accounts: StaffAccount[], shown?: { email: string, link: string, mailed?: boolean }, error?: string): string {
  return consolePage(c, 'Staff', html`
<h1>Staff</h1>
${error ? html`<div class="error-summary" role="alert"><h2>There is a problem</h2><ul><li><a href="#email">${error}</a></li></ul></div>` : ''}
${shown ? html`<div class="notice" role="status"><p>${shown.mailed ? html`This link is on its way to ${shown.email} by email. It works once, for ${PASSWORD_LINK_HOURS} hours, and is not shown again:` : html`Send this link to ${shown.email} (it works once, for ${PASSWORD_LINK_HOURS} hours; it is not shown again):`}</p><p><code>${shown.link}</code></p></div>` : ''}
<h2 id="accounts">Accounts</h2>
<div class="table-scroll" tabindex="0" role="region" aria-labelledby="accounts"><table>
<thead><tr><th scope="col">Address</th><th scope="col">Role</th><th scope="col">State</th><th scope="col">Last sign-in</th><th scope="col">Change</th></tr></thead>
<tbody>${accounts.map((a) => html`<tr><td>${a.email}</td><td>${a.role}</td><td>${a.disabled ? 'disabled' : a.hasPassword ? 'active' : 'invited'}</td><td>${when(a.lastLoginAt)}</td>
<td><form class="inline" method="post" action="/admin/staff/${a.id}/role">${csrfField(c)}${roleSelect(`role-${a.id}`, a.role, html`<span class="visually-hidden">Role of ${a.email}</span>`)}<button type="submit" class="small secondary">Change role<span class="visually-hidden"> of ${a.email}</span></button></form>
<form class="inline" method="post" action="/admin/staff/${a.id}/${a.disabled ? 'enable' : 'disable'}">${csrfField(c)}<button type="submit" class="small secondary">${a.disabled ? 'Enable' : 'Disable'}<span class="visually-hidden"> ${a.email}</span></button></form>
${a.disabled
? ''
: html`<form class="inline" method="post" action="/admin/staff/${a.id}/link">${csrfField(c)}<button type="submit" class="small secondary">New password link<span class="visually-hidden"> for ${a.email}</span></button></form>
<form class="inline" method="post" action="/admin/staff/${a.id}/link">${csrfField(c)}<input type="hidden" name="mail" value="on"><button type="submit" class="small secondary">Email a new link<span class="visually-hidden"> to ${a.email}</span></button></form>`}</td></tr>`)}</tbody>
</table></div>
<h2>Invite a member of staff</h2>
${ROLES_HELP}
<form method="post" action="/admin/staff">${csrfField(c)}
<label for="email">Email address</label>
<input type="email" id="email" name="email" autocomplete="off" spellcheck="false" required>
${roleSelect('role', 'viewer', 'Role')}
<div class="checkbox"><input type="checkbox" id="mail" name="mail" value="on" checked><label for="mail">Email them the link to set a password</label></div>
<button type="submit">Invite</button>
</form>`)
}

export function keysPage (c: ConsoleContext, keys: ApiKey[], created?: { name: string, secret: string }, error?: string): string {
  return consolePage(c, 'API keys', html`
<h1>API keys</h1>
<p>For scripts and the sending tool: send <code>Authorization: Bearer jl_…</code>. A key has the role it was given.</p>
${error ? html`<div class="error-summary" role="alert"><h2>There is a problem</h2><ul><li><a href="#name">${error}</a></li></ul></div>` : ''}
${created ? html`<div class="notice" role="status"><p>The key “${created.name}”. Copy it now: it is not shown again.</p><p><code>${created.secret}</code></p></div>` : ''}
<h2 id="keys">Keys</h2>
${keys.length === 0
  ? html`<p>No API keys yet.</p>`
  : html`<div class="table-scroll" tabindex="0" role="region" aria-labelledby="keys"><table>
<thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Starts with</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col">State</th></tr></thead>
<tbody>${keys.map((k) => html`<tr><td>${k.name}</td><td>${k.role}</td><td><code>${k.prefix}…</code></td><td>${when(k.createdAt)} by ${k.createdBy}</td><td>${k.expiresAt ? when(k.expiresAt) : 'never'}</td><td>${when(k.lastUsedAt)}</td>
<td>${k.revokedAt ? `revoked ${when(k.revokedAt)}` : html`<form class="inline" method="post" action="/admin/keys/${k.id}/revoke">${csrfField(c)}<button type="submit" class="small secondary">Revoke<span class="visually-hidden"> ${k.name}</span></button></form>`}</td></tr>`)}</tbody>
</table></div>`}
<h2>Create a key</h2>
${ROLES_HELP}
<form method="post" action="/admin/keys">${csrfField(c)}
<label for="name">Name</label>
<p class="hint" id="name-hint">What uses it, e.g. “sending tool”.</p>
<input type="text" id="name" name="name" maxlength="100" aria-describedby="name-hint" required>
${roleSelect('role', 'viewer', 'Role')}
<label for="days">Expires after (days)</label>
<p class="hint" id="days-hint">Leave empty for a key that does not expire.</p>
<input type="number" id="days" name="days" min="1" max="3650" aria-describedby="days-hint">
<button type="submit">Create key</button>
</form>`)
}
