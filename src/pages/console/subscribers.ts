// The subscriber search page: a GET form (works without JavaScript, and its URL can be bookmarked or shared with
// staff), the count of matches, the table, and a link to the next page.
import { html, type Html } from '../../html.js'
import { SEARCH_COUNT_CAP, type SearchFilter, type SearchResult } from '../../domain/search.js'
import { SUBSCRIBER_STATUSES } from '../../outbox/overview.js'
import { consolePage, statusName, when, type ConsoleContext } from './frame.js'

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
  const { m } = c.page
  const number = (n: number) => n.toLocaleString('en-GB')
  const count = result.countCapped
    ? m.t('console.subscribers.countCapped', { cap: number(SEARCH_COUNT_CAP) })
    : m.t('console.subscribers.count', { count: result.count, n: number(result.count) })
  const capital = (s: string) => s[0].toUpperCase() + s.slice(1)
  return consolePage(c, m.t('console.subscribers.title'), html`
<h1>${m.t('console.subscribers.title')}</h1>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
<form method="get" action="/admin/subscribers" role="search" aria-label="${m.t('console.subscribers.title')}">
<label for="q">${m.t('console.subscribers.q')}</label>
<p class="hint" id="q-hint">${m.t('console.subscribers.qHint')}</p>
<input type="search" id="q" name="q" value="${filter.q ?? ''}" maxlength="200" aria-describedby="q-hint">
<div class="filters">
<div><label for="status">${m.t('console.common.status')}</label><select id="status" name="status">${option('', m.t('console.subscribers.any'), filter.status ?? '')}${SUBSCRIBER_STATUSES.map((s) => option(s, capital(statusName(c, s)), filter.status))}</select></div>
<div><label for="list">${m.t('console.common.list')}</label><input type="text" id="list" name="list" value="${filter.list ?? ''}" maxlength="100"></div>
<div><label for="source">${m.t('console.common.source')}</label><input type="text" id="source" name="source" value="${filter.source ?? ''}" maxlength="100"></div>
<div><label for="since">${m.t('console.subscribers.since')}</label><input type="date" id="since" name="since" value="${filter.since ?? ''}"></div>
<div><label for="until">${m.t('console.subscribers.until')}</label><input type="date" id="until" name="until" value="${filter.until ?? ''}"></div>
</div>
<button type="submit">${m.t('console.subscribers.search')}</button>
</form>
<h2 id="results">${count}</h2>
${result.subscribers.length === 0
  ? html`<p>${m.t('console.subscribers.none')}</p>`
  : html`<div class="table-scroll" tabindex="0" role="region" aria-labelledby="results"><table>
<thead><tr><th scope="col">${m.t('console.common.address')}</th><th scope="col">${m.t('console.common.name')}</th><th scope="col">${m.t('console.common.status')}</th><th scope="col">${m.t('console.common.source')}</th><th scope="col">${m.t('console.common.signedUp')}</th></tr></thead>
<tbody>${result.subscribers.map((s) => html`<tr><td><a href="/admin/subscriber/${s.publicId}">${s.email}</a></td><td>${s.name ?? ''}</td><td>${statusName(c, s.status)}</td><td>${s.source ?? ''}</td><td>${when(s.signedUpAt)}</td></tr>`)}</tbody>
</table></div>`}
${result.nextCursor ? html`<p><a class="button secondary" href="${nextLink(filter, result.nextCursor)}">${m.t('console.subscribers.next', { count: filter.limit })}</a></p>` : ''}`)
}
