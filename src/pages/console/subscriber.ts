// One subscriber: who they are, each list with its status, the full consent ledger (what they agreed to, when, from
// which IP and browser), the mail sent and its delivery state, and the actions the member of staff's role allows;
// and the erasure confirmation page, which names what will be deleted.
import { html } from '../../html.js'
import type { SubscriberDetail } from '../../domain/subscriber-detail.js'
import type { MessageKey } from '../../messages/index.js'
import { mayAct } from '../../plugins/staff-auth.js'
import { codeName, consolePage, csrfField, roleName, statusName, when, type ConsoleContext } from './frame.js'
import { mailKind } from './operations.js'

const NOTICES: Record<string, MessageKey> = {
  resent: 'console.subscriber.notices.resent',
  unsubscribed: 'console.subscriber.notices.unsubscribed',
  'not-pending': 'console.subscriber.notices.notPending'
}

export function subscriberPage (c: ConsoleContext, s: SubscriberDetail, done?: string): string {
  const { m } = c.page
  const editor = mayAct(c.staff.role, 'editor')
  const base = `/admin/subscriber/${s.publicId}`
  const notice = done && Object.hasOwn(NOTICES, done) ? m.t(NOTICES[done]) : undefined
  return consolePage(c, s.email, html`
<p><a href="/admin/subscribers">${m.t('console.subscriber.back')}</a></p>
<h1>${s.email}</h1>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
<dl class="facts">
<dt>${m.t('console.common.address')}</dt><dd>${s.email}</dd>
<dt>${m.t('console.common.name')}</dt><dd>${s.name ?? '—'}</dd>
<dt>${m.t('console.common.source')}</dt><dd>${s.source ?? '—'}</dd>
<dt>${m.t('console.common.status')}</dt><dd>${statusName(c, s.status)}</dd>
</dl>
<h2 id="lists">${m.t('console.subscriber.lists')}</h2>
<div class="table-scroll" tabindex="0" role="region" aria-labelledby="lists"><table>
<thead><tr><th scope="col">${m.t('console.common.list')}</th><th scope="col">${m.t('console.common.status')}</th><th scope="col">${m.t('console.common.signedUp')}</th><th scope="col">${m.t('console.subscriber.confirmed')}</th><th scope="col">${m.t('console.subscriber.unsubscribed')}</th>${editor ? html`<th scope="col">${m.t('console.common.action')}</th>` : ''}</tr></thead>
<tbody>${s.lists.map((l) => html`<tr><td>${l.name} (${l.list})</td><td>${statusName(c, l.status)}</td><td>${when(l.signedUpAt)}</td><td>${when(l.confirmedAt)}</td><td>${when(l.unsubscribedAt)}</td>
${editor ? html`<td>${l.status === 'unsubscribed' ? '' : html`<form class="inline" method="post" action="${base}/unsubscribe">${csrfField(c)}<input type="hidden" name="list" value="${l.list}"><button type="submit" class="small secondary">${m.t('console.subscriber.unsubscribeFrom', { list: l.name })}</button></form>`}</td>` : ''}</tr>`)}</tbody>
</table></div>
${editor
  ? html`<h2>${m.t('console.subscriber.actions')}</h2>
<p>${s.status === 'pending' ? html`<form class="inline" method="post" action="${base}/resend">${csrfField(c)}<button type="submit" class="secondary">${m.t('console.subscriber.resend')}</button></form> ` : ''}
${s.status === 'unsubscribed' ? '' : html`<form class="inline" method="post" action="${base}/unsubscribe">${csrfField(c)}<button type="submit" class="secondary">${m.t('console.subscriber.unsubscribeAll')}</button></form> `}
<a class="button secondary" href="${base}/erase">${m.t('console.subscriber.eraseLink')}</a></p>`
  : html`<p>${m.t('console.subscriber.viewerOnly', { role: roleName(c, c.staff.role) })}</p>`}
<h2 id="ledger">${m.t('console.subscriber.ledger')}</h2>
<div class="table-scroll" tabindex="0" role="region" aria-labelledby="ledger"><table>
<thead><tr><th scope="col">${m.t('console.subscriber.ledgerColumns.when')}</th><th scope="col">${m.t('console.subscriber.ledgerColumns.what')}</th><th scope="col">${m.t('console.subscriber.ledgerColumns.how')}</th><th scope="col">${m.t('console.common.ip')}</th><th scope="col">${m.t('console.subscriber.ledgerColumns.browser')}</th><th scope="col">${m.t('console.subscriber.ledgerColumns.agreedTo')}</th></tr></thead>
<tbody>${s.ledger.map((e) => html`<tr><td>${when(e.at)}</td><td>${codeName(c, 'ledgerTypes', e.type)}</td><td>${e.method ? codeName(c, 'methods', e.method) : ''}${typeof e.details.actor === 'string' ? html` ${m.t('console.subscriber.by', { actor: e.details.actor })}` : ''}</td><td>${e.ip ?? ''}</td><td>${e.userAgent ?? ''}</td><td>${e.consentText ? html`${e.consentText} <span class="hint">${m.t('console.subscriber.version', { version: e.consentTextVersion ?? '' })}</span>` : ''}</td></tr>`)}</tbody>
</table></div>
<h2 id="mail">${m.t('console.subscriber.mail')}</h2>
${s.mail.length === 0
  ? html`<p>${m.t('console.subscriber.noMail')}</p>`
  : html`<div class="table-scroll" tabindex="0" role="region" aria-labelledby="mail"><table>
<thead><tr><th scope="col">${m.t('console.mail.columns.mail')}</th><th scope="col">${m.t('console.mail.columns.state')}</th><th scope="col" class="num">${m.t('console.mail.columns.attempts')}</th><th scope="col">${m.t('console.mail.columns.queued')}</th><th scope="col">${m.t('console.mail.columns.sent')}</th><th scope="col">${m.t('console.mail.columns.lastError')}</th></tr></thead>
<tbody>${s.mail.map((x) => html`<tr><td>${mailKind(c, x.kind)}</td><td>${statusName(c, x.status)}</td><td class="num">${x.attempts}</td><td>${when(x.createdAt)}</td><td>${when(x.sentAt)}</td><td>${x.lastError ?? ''}</td></tr>`)}</tbody>
</table></div>`}`)
}

export function erasePage (c: ConsoleContext, s: SubscriberDetail): string {
  const { m } = c.page
  const base = `/admin/subscriber/${s.publicId}`
  const title = m.t('console.erase.title', { email: s.email })
  return consolePage(c, title, html`
<p><a href="${base}">${m.t('console.erase.back', { email: s.email })}</a></p>
<h1>${title}</h1>
<div class="warning">
<p>${m.t('console.erase.intro')}</p>
<ul>
<li>${s.name ? m.t('console.erase.subscriberNamed', { email: s.email, name: s.name }) : m.t('console.erase.subscriber', { email: s.email })}</li>
<li>${s.lists.length === 1 ? m.t('console.erase.membershipOne', { list: s.lists[0].name }) : m.t('console.erase.membership', { count: s.lists.length })}</li>
<li>${m.t('console.erase.mail', { count: s.mail.length })}</li>
<li>${m.t('console.erase.ledger', { count: s.ledger.length })}</li>
</ul>
<p>${m.t('console.erase.kept')}</p>
</div>
<form method="post" action="${base}/erase">${csrfField(c)}
<button type="submit" class="danger">${m.t('console.erase.button', { email: s.email })}</button>
</form>`)
}
