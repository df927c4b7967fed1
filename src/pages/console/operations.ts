// Operations pages: the mail queue (waiting and dead mail, with retry buttons) and the staff audit trail.
import { html } from '../../html.js'
import type { AuditRow } from '../../domain/audit.js'
import type { MessageKey } from '../../messages/index.js'
import type { OutboxOverview } from '../../outbox/overview.js'
import type { WaitingMessage } from '../../outbox/waiting.js'
import { mayAct } from '../../plugins/staff-auth.js'
import { codeName, consolePage, csrfField, statusName, when, type ConsoleContext } from './frame.js'

/** A mail's kind in the page's language: `confirmation`, `cadarnhau`. */
export const mailKind = (c: ConsoleContext, kind: string): string =>
  c.page.m.has(`console.mailKinds.${kind}`) ? c.page.m.t(`console.mailKinds.${kind}` as MessageKey) : kind

export function mailPage (c: ConsoleContext, overview: OutboxOverview, waiting: WaitingMessage[], requeued?: number): string {
  const { m } = c.page
  const editor = mayAct(c.staff.role, 'editor')
  return consolePage(c, m.t('console.mail.title'), html`
<h1>${m.t('console.mail.title')}</h1>
${requeued !== undefined ? html`<p class="notice" role="status">${m.t('console.mail.requeued', { count: requeued })}</p>` : ''}
<ul class="cards">
<li><strong>${overview.counts.pending + overview.counts.sending}</strong> ${m.t('console.mail.cards.waiting')}</li>
<li><strong>${overview.counts.dead}</strong> ${m.t('console.mail.cards.dead')}</li>
<li><strong>${overview.counts.sent}</strong> ${m.t('console.mail.cards.sent')}</li>
<li><strong>${overview.counts.cancelled}</strong> ${m.t('console.mail.cards.cancelled')}</li>
</ul>
<p>${overview.oldestWaitingSeconds > 0 ? m.t('console.mail.oldest', { count: Math.round(overview.oldestWaitingSeconds / 60) }) : m.t('console.mail.noneWaiting')}</p>
<h2 id="dead">${m.t('console.mail.deadHeading')}</h2>
<p class="hint">${m.t('console.mail.deadHint')}</p>
${overview.dead.length === 0
  ? html`<p>${m.t('console.mail.noDead')}</p>`
  : html`${editor ? html`<form method="post" action="/admin/mail/retry-all">${csrfField(c)}<button type="submit">${m.t('console.mail.retryAll')}</button></form>` : ''}
<div class="table-scroll" tabindex="0" role="region" aria-labelledby="dead"><table>
<thead><tr><th scope="col">${m.t('console.mail.columns.mail')}</th><th scope="col">${m.t('console.mail.columns.to')}</th><th scope="col" class="num">${m.t('console.mail.columns.attempts')}</th><th scope="col">${m.t('console.mail.columns.queued')}</th><th scope="col">${m.t('console.mail.columns.lastError')}</th>${editor ? html`<th scope="col">${m.t('console.common.action')}</th>` : ''}</tr></thead>
<tbody>${overview.dead.map((d) => html`<tr><td>${mailKind(c, d.kind)} #${d.id}</td><td>${d.to}</td><td class="num">${d.attempts}</td><td>${when(d.createdAt)}</td><td>${d.lastError ?? ''}</td>
${editor ? html`<td><form class="inline" method="post" action="/admin/mail/${d.id}/retry">${csrfField(c)}<button type="submit" class="small secondary">${m.t('console.mail.retry', { id: d.id })}</button></form></td>` : ''}</tr>`)}</tbody>
</table></div>`}
<h2 id="waiting">${m.t('console.mail.waitingHeading')}</h2>
${waiting.length === 0
  ? html`<p>${m.t('console.mail.noneWaiting')}</p>`
  : html`<div class="table-scroll" tabindex="0" role="region" aria-labelledby="waiting"><table>
<thead><tr><th scope="col">${m.t('console.mail.columns.mail')}</th><th scope="col">${m.t('console.mail.columns.to')}</th><th scope="col">${m.t('console.mail.columns.state')}</th><th scope="col" class="num">${m.t('console.mail.columns.attempts')}</th><th scope="col">${m.t('console.mail.columns.next')}</th><th scope="col">${m.t('console.mail.columns.lastError')}</th></tr></thead>
<tbody>${waiting.map((w) => html`<tr><td>${mailKind(c, w.kind)} #${w.id}</td><td>${w.to}</td><td>${statusName(c, w.status)}</td><td class="num">${w.attempts}</td><td>${when(w.nextAttemptAt)}</td><td>${w.lastError ?? ''}</td></tr>`)}</tbody>
</table></div>`}`)
}

export const AUDIT_ACTIONS = ['login', 'set-password', 'sign-out-everywhere', 'export', 'access', 'erasure', 'unsubscribe', 'resend-confirmation',
  'retry-mail', 'staff-add', 'staff-role', 'staff-disable', 'staff-enable', 'staff-link', 'key-create', 'key-revoke'] as const

export function auditPage (c: ConsoleContext, filter: { actor?: string, action?: string }, rows: AuditRow[]): string {
  const { m } = c.page
  return consolePage(c, m.t('console.audit.title'), html`
<h1>${m.t('console.audit.title')}</h1>
<p>${m.t('console.audit.intro')}</p>
<form method="get" action="/admin/audit" role="search" aria-label="${m.t('console.audit.title')}">
<div class="filters">
<div><label for="actor">${m.t('console.audit.who')}</label><input type="text" id="actor" name="actor" value="${filter.actor ?? ''}" maxlength="200"></div>
<div><label for="action">${m.t('console.audit.what')}</label><select id="action" name="action"><option value="">${m.t('console.audit.anything')}</option>${AUDIT_ACTIONS.map((a) => html`<option value="${a}"${filter.action === a ? html` selected` : ''}>${codeName(c, 'auditActions', a)}</option>`)}</select></div>
</div>
<button type="submit">${m.t('console.audit.filter')}</button>
</form>
<h2 id="entries">${rows.length === 0 ? m.t('console.audit.nothingRecorded') : m.t('console.audit.latest', { count: rows.length })}</h2>
${rows.length === 0
  ? html`<p>${m.t('console.audit.nothingMatches')}</p>`
  : html`<div class="table-scroll" tabindex="0" role="region" aria-labelledby="entries"><table>
<thead><tr><th scope="col">${m.t('console.audit.when')}</th><th scope="col">${m.t('console.audit.who')}</th><th scope="col">${m.t('console.audit.what')}</th><th scope="col">${m.t('console.audit.target')}</th><th scope="col">${m.t('console.common.ip')}</th><th scope="col">${m.t('console.audit.details')}</th></tr></thead>
<tbody>${rows.map((r) => html`<tr><td>${when(r.at)}</td><td>${r.actor}</td><td>${codeName(c, 'auditActions', r.action)}</td><td>${r.target ?? ''}</td><td>${r.ip ?? ''}</td><td><code>${Object.keys(r.details).length > 0 ? JSON.stringify(r.details) : ''}</code></td></tr>`)}</tbody>
</table></div>`}`)
}
