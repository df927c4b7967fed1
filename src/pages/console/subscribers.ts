// The subscriber search page: a GET form (works without JavaScript, and its URL can be bookmarked or shared with
// staff), the count of matches, the table, and a link to the next page.
import { html, type Html } from '../../html.js'
import { SEARCH_COUNT_CAP, type SearchFilter, type SearchResult } from '../../domain/search.js'
import { SUBSCRIBER_STATUSES } from '../../outbox/overview.js'
import { consolePage, when, type ConsoleContext } from './frame.js'

const option = (value: string, label: string, selected: string | undefined): Html =>
  html`<option value="${value}"${selected === value ? html` selected` : ''}>${label}</option>`

function nextLink (filter: SearchFilter, cursor: string): string {
  const params = new URLSearchParams()
  for (const key of ['q', 'status', 'list', 'source', 'since', 'until'] as const) {
    const v = filter[key]
    if (v) params.set(key, v)
  }
  params.set('limit', String(filter.limit))
  params.set('cursor', cursor)
  return `/admin/subscribers?${params.toString()}`
}

export function subscribersPage (c: ConsoleContext, filter: SearchFilter, result: SearchResult, notice?: string): string {
  const count = result.countCapped ? `More than ${SEARCH_COUNT_CAP.toLocaleString('en-GB')} subscribers match` : `${result.count.toLocaleString('en-GB')} ${result.count === 1 ? 'subscriber matches' : 'subscribers match'}`
  return consolePage(c, 'Subscribers', html`
<h1>Subscribers</h1>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
<form method="get" action="/admin/subscribers" role="search" aria-label="Subscribers">
<label for="q">Address or name</label>
<p class="hint" id="q-hint">Part of an address or a name; upper and lower case are the same.</p>
<input type="search" id="q" name="q" value="${filter.q ?? ''}" maxlength="200" aria-describedby="q-hint">
<div class="filters">
<div><label for="status">Status</label><select id="status" name="status">${option('', 'Any', filter.status ?? '')}${SUBSCRIBER_STATUSES.map((s) => option(s, s[0].toUpperCase() + s.slice(1), filter.status))}</select></div>
<div><label for="list">List</label><input type="text" id="list" name="list" value="${filter.list ?? ''}" maxlength="100"></div>
<div><label for="source">Source</label><input type="text" id="source" name="source" value="${filter.source ?? ''}" maxlength="100"></div>
<div><label for="since">Signed up on or after</label><input type="date" id="since" name="since" value="${filter.since ?? ''}"></div>
<div><label for="until">Signed up on or before</label><input type="date" id="until" name="until" value="${filter.until ?? ''}"></div>
</div>
<button type="submit">Search</button>
</form>
<h2 id="results">${count}</h2>
${result.subscribers.length === 0
  ? html`<p>No subscriber matches this search.</p>`
  : html`<div class="table-scroll" tabindex="0" role="region" aria-labelledby="results"><table>
<thead><tr><th scope="col">Address</th><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Source</th><th scope="col">Signed up</th></tr></thead>
<tbody>${result.subscribers.map((s) => html`<tr><td><a href="/admin/subscriber/${s.publicId}">${s.email}</a></td><td>${s.name ?? ''}</td><td>${s.status}</td><td>${s.source ?? ''}</td><td>${when(s.signedUpAt)}</td></tr>`)}</tbody>
</table></div>`}
${result.nextCursor ? html`<p><a class="button secondary" href="${nextLink(filter, result.nextCursor)}">Next ${filter.limit}</a></p>` : ''}`)
}
