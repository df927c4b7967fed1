// Operations pages: the mail queue (waiting and dead mail, with retry buttons) and the staff audit trail.
import { html } from '../../html.js'
import type { AuditRow } from '../../domain/audit.js'
import type { OutboxOverview } from '../../outbox/overview.js'
import type { WaitingMessage } from '../../outbox/waiting.js'
import { mayAct } from '../../plugins/staff-auth.js'
import { consolePage, csrfField, when, type ConsoleContext } from './frame.js'

export function mailPage (c: ConsoleContext, overview: OutboxOverview, waiting: WaitingMessage[], requeued?: number): string {
  const editor = mayAct(c.staff.role, 'editor')
  return consolePage(c, 'Mail', html`
<h1>Mail</h1>
${requeued !== undefined ? html`<p class="notice" role="status">${requeued} dead ${requeued === 1 ? 'mail is' : 'mails are'} back in the queue.</p>` : ''}
<ul class="cards">
<li><strong>${overview.counts.pending + overview.counts.sending}</strong> waiting</li>
<li><strong>${overview.counts.dead}</strong> dead</li>
<li><strong>${overview.counts.sent}</strong> sent</li>
<li><strong>${overview.counts.cancelled}</strong> cancelled</li>
</ul>
<p>${overview.oldestWaitingSeconds > 0 ? `The oldest waiting mail was queued ${Math.round(overview.oldestWaitingSeconds / 60)} minutes ago.` : 'No mail is waiting.'}</p>
<h2 id="dead">Dead mail</h2>
<p class="hint">Mail the mail server refused for good, or that failed too many times. Retrying puts it back in the queue with a fresh set of attempts.</p>
${overview.dead.length === 0
  ? html`<p>No dead mail.</p>`
  : html`${editor ? html`<form method="post" action="/admin/mail/retry-all">${csrfField(c)}<button type="submit">Retry all dead mail</button></form>` : ''}
<div class="table-scroll" tabindex="0" role="region" aria-labelledby="dead"><table>
<thead><tr><th scope="col">Mail</th><th scope="col">To</th><th scope="col" class="num">Attempts</th><th scope="col">Queued</th><th scope="col">Last error</th>${editor ? html`<th scope="col">Action</th>` : ''}</tr></thead>
<tbody>${overview.dead.map((d) => html`<tr><td>${d.kind} #${d.id}</td><td>${d.to}</td><td class="num">${d.attempts}</td><td>${when(d.createdAt)}</td><td>${d.lastError ?? ''}</td>
${editor ? html`<td><form class="inline" method="post" action="/admin/mail/${d.id}/retry">${csrfField(c)}<button type="submit" class="small secondary">Retry #${d.id}</button></form></td>` : ''}</tr>`)}</tbody>
</table></div>`}
<h2 id="waiting">Waiting mail</h2>
${waiting.length === 0
  ? html`<p>No mail is waiting.</p>`
  : html`<div class="table-scroll" tabindex="0" role="region" aria-labelledby="waiting"><table>
<thead><tr><th scope="col">Mail</th><th scope="col">To</th><th scope="col">State</th><th scope="col" class="num">Attempts</th><th scope="col">Next attempt</th><th scope="col">Last error</th></tr></thead>
<tbody>${waiting.map((w) => html`<tr><td>${w.kind} #${w.id}</td><td>${w.to}</td><td>${w.status}</td><td class="num">${w.attempts}</td><td>${when(w.nextAttemptAt)}</td><td>${w.lastError ?? ''}</td></tr>`)}</tbody>
</table></div>`}`)
}

export const AUDIT_ACTIONS = ['login', 'set-password', 'sign-out-everywhere', 'export', 'access', 'erasure', 'unsubscribe', 'resend-confirmation',
  'retry-mail', 'staff-add', 'staff-role', 'staff-disable', 'staff-enable', 'staff-link', 'key-create', 'key-revoke'] as const

export function auditPage (c: ConsoleContext, filter: { actor?: string, action?: string }, rows: AuditRow[]): string {
  return consolePage(c, 'Audit', html`
<h1>Audit</h1>
<p>Who did what, newest first: sign-ins, exports, subject access, erasures, unsubscribes and resends by staff, mail retries, staff accounts and API keys.</p>
<form method="get" action="/admin/audit" role="search" aria-label="Audit">
<div class="filters">
<div><label for="actor">Who</label><input type="text" id="actor" name="actor" value="${filter.actor ?? ''}" maxlength="200"></div>
<div><label for="action">What</label><select id="action" name="action"><option value="">Anything</option>${AUDIT_ACTIONS.map((a) => html`<option value="${a}"${filter.action === a ? html` selected` : ''}>${a}</option>`)}</select></div>
</div>
<button type="submit">Filter</button>
</form>
<h2 id="entries">${rows.length === 0 ? 'Nothing recorded' : `The latest ${rows.length}`}</h2>
${rows.length === 0
  ? html`<p>Nothing matches.</p>`
  : html`<div class="table-scroll" tabindex="0" role="region" aria-labelledby="entries"><table>
<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">To what</th><th scope="col">IP address</th><th scope="col">Details</th></tr></thead>
<tbody>${rows.map((r) => html`<tr><td>${when(r.at)}</td><td>${r.actor}</td><td>${r.action}</td><td>${r.target ?? ''}</td><td>${r.ip ?? ''}</td><td><code>${Object.keys(r.details).length > 0 ? JSON.stringify(r.details) : ''}</code></td></tr>`)}</tbody>
</table></div>`}`)
}
