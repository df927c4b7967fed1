// One subscriber: who they are, each list with its status, the full consent ledger (what they agreed to, when, from
// which IP and browser), the mail sent and its delivery state, and the actions the member of staff's role allows;
// and the erasure confirmation page, which names what will be deleted.
import { html } from '../../html.js'
import type { SubscriberDetail } from '../../domain/subscriber-detail.js'
import { mayAct } from '../../plugins/staff-auth.js'
import { consolePage, csrfField, when, type ConsoleContext } from './frame.js'

const NOTICES: Record<string, string> = {
  resent: 'A new confirmation mail is on its way; the previous link no longer works.',
  unsubscribed: 'Unsubscribed. Mail that was waiting to be sent to them is cancelled.',
  'not-pending': 'Only a pending subscriber can be sent a confirmation mail.'
}

export function subscriberPage (c: ConsoleContext, s: SubscriberDetail, done?: string): string {
  const editor = mayAct(c.staff.role, 'editor')
  const base = `/admin/subscriber/${s.publicId}`
  const notice = done && Object.hasOwn(NOTICES, done) ? NOTICES[done] : undefined
  return consolePage(c, s.email, html`
<p><a href="/admin/subscribers">Back to the search</a></p>
<h1>${s.email}</h1>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
<dl class="facts">
<dt>Address</dt><dd>${s.email}</dd>
<dt>Name</dt><dd>${s.name ?? '—'}</dd>
<dt>Source</dt><dd>${s.source ?? '—'}</dd>
<dt>Status</dt><dd>${s.status}</dd>
</dl>
<h2 id="lists">Lists</h2>
<div class="table-scroll" tabindex="0" role="region" aria-labelledby="lists"><table>
<thead><tr><th scope="col">List</th><th scope="col">Status</th><th scope="col">Signed up</th><th scope="col">Confirmed</th><th scope="col">Unsubscribed</th>${editor ? html`<th scope="col">Action</th>` : ''}</tr></thead>
<tbody>${s.lists.map((l) => html`<tr><td>${l.name} (${l.list})</td><td>${l.status}</td><td>${when(l.signedUpAt)}</td><td>${when(l.confirmedAt)}</td><td>${when(l.unsubscribedAt)}</td>
${editor ? html`<td>${l.status === 'unsubscribed' ? '' : html`<form class="inline" method="post" action="${base}/unsubscribe">${csrfField(c)}<input type="hidden" name="list" value="${l.list}"><button type="submit" class="small secondary">Unsubscribe from ${l.name}</button></form>`}</td>` : ''}</tr>`)}</tbody>
</table></div>
${editor
  ? html`<h2>Actions</h2>
<p>${s.status === 'pending' ? html`<form class="inline" method="post" action="${base}/resend">${csrfField(c)}<button type="submit" class="secondary">Resend the confirmation mail</button></form> ` : ''}
${s.status === 'unsubscribed' ? '' : html`<form class="inline" method="post" action="${base}/unsubscribe">${csrfField(c)}<button type="submit" class="secondary">Unsubscribe from all lists</button></form> `}
<a class="button secondary" href="${base}/erase">Erase this subscriber</a></p>`
  : html`<p>Your role (${c.staff.role}) can see this subscriber; an editor or owner can unsubscribe or erase them.</p>`}
<h2 id="ledger">Consent ledger</h2>
<div class="table-scroll" tabindex="0" role="region" aria-labelledby="ledger"><table>
<thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">How</th><th scope="col">IP address</th><th scope="col">Browser</th><th scope="col">Agreed to</th></tr></thead>
<tbody>${s.ledger.map((e) => html`<tr><td>${when(e.at)}</td><td>${e.type}</td><td>${e.method ?? ''}${typeof e.details.actor === 'string' ? html` by ${e.details.actor}` : ''}</td><td>${e.ip ?? ''}</td><td>${e.userAgent ?? ''}</td><td>${e.consentText ? html`${e.consentText} <span class="hint">(version ${e.consentTextVersion})</span>` : ''}</td></tr>`)}</tbody>
</table></div>
<h2 id="mail">Mail</h2>
${s.mail.length === 0
  ? html`<p>No mail has been queued for this subscriber.</p>`
  : html`<div class="table-scroll" tabindex="0" role="region" aria-labelledby="mail"><table>
<thead><tr><th scope="col">Mail</th><th scope="col">State</th><th scope="col" class="num">Attempts</th><th scope="col">Queued</th><th scope="col">Sent</th><th scope="col">Last error</th></tr></thead>
<tbody>${s.mail.map((m) => html`<tr><td>${m.kind}</td><td>${m.status}</td><td class="num">${m.attempts}</td><td>${when(m.createdAt)}</td><td>${when(m.sentAt)}</td><td>${m.lastError ?? ''}</td></tr>`)}</tbody>
</table></div>`}`)
}

export function erasePage (c: ConsoleContext, s: SubscriberDetail): string {
  const base = `/admin/subscriber/${s.publicId}`
  return consolePage(c, `Erase ${s.email}?`, html`
<p><a href="${base}">Back to ${s.email}</a></p>
<h1>Erase ${s.email}?</h1>
<div class="warning">
<p>This cannot be undone. It deletes:</p>
<ul>
<li>the subscriber ${s.email}${s.name ? html` (${s.name})` : ''}, with their source and sign-up details;</li>
<li>their membership of ${s.lists.length === 1 ? html`the list ${s.lists[0].name}` : html`${s.lists.length} lists`};</li>
<li>${s.mail.length} queued or sent ${s.mail.length === 1 ? 'mail' : 'mails'} to them;</li>
<li>the IP addresses and browsers in their ${s.ledger.length} consent-ledger ${s.ledger.length === 1 ? 'entry' : 'entries'} (the entries stay, anonymised).</li>
</ul>
<p>Only a one-way hash of the address remains, so an import cannot add it back; the person can still sign up again themselves.</p>
</div>
<form method="post" action="${base}/erase">${csrfField(c)}
<button type="submit" class="danger">Erase ${s.email}</button>
</form>`)
}
