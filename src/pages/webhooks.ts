// The owners' webhooks page: endpoints with their state, each one's recent deliveries with a retry button for the
// dead ones, and a form to add one (its secret shown once, on the page that follows). Works without JavaScript.
import { html, type Html } from '../html.js'
import { EVENT_TYPES } from '../domain/events.js'
import type { Delivery, Endpoint } from '../webhooks/endpoints.js'
import { staffIn } from '../messages/staff.js'
import { layout, type PageContext } from './layout.js'

function deliveriesTable (ctx: PageContext, endpoint: Endpoint, deliveries: Delivery[]): Html {
  const m = staffIn(ctx.m)
  if (deliveries.length === 0) return html`<p>${m.webhooks.noDeliveries}</p>`
  return html`<div class="table-scroll" tabindex="0" role="region" aria-label="${m.webhooks.deliveries(endpoint.url)}"><table>
<thead><tr><th scope="col">${m.webhooks.event}</th><th scope="col">${m.webhooks.status}</th><th scope="col" class="num">${m.webhooks.tries}</th><th scope="col">${m.webhooks.code}</th><th scope="col">${m.webhooks.time}</th><th scope="col"></th></tr></thead>
<tbody>${deliveries.map((d) => html`<tr><td>${d.type}<br><code>${d.eventId}</code></td><td>${d.status}</td><td class="num">${d.attempts}</td>
<td>${d.lastStatusCode ?? ''} ${d.lastError ?? ''}</td><td>${d.updatedAt}</td>
<td>${d.status === 'dead' ? html`<form method="post" action="/admin/webhooks/${endpoint.id}/deliveries/${d.id}/retry"><button class="secondary" type="submit">${m.webhooks.retry}</button></form>` : ''}</td></tr>`)}</tbody>
</table></div>`
}

export function webhooksPage (ctx: PageContext, endpoints: Array<{ endpoint: Endpoint, deliveries: Delivery[] }>, error?: string): string {
  const m = staffIn(ctx.m)
  return layout(ctx, m.webhooks.title, html`
<h1>${m.webhooks.title}</h1>
<p>${m.webhooks.intro}</p>
${endpoints.length === 0 ? html`<p>${m.webhooks.none}</p>` : ''}
${endpoints.map(({ endpoint: e, deliveries }) => html`<h2>${e.url}</h2>
<p>${m.webhooks.events}: ${e.eventTypes.join(', ')}. ${m.webhooks.list}: ${e.list ?? m.webhooks.allLists}.
${m.webhooks.state}: ${e.enabled ? m.webhooks.on : m.webhooks.off(e.disabledReason)}</p>
<form method="post" action="/admin/webhooks/${e.id}/${e.enabled ? 'off' : 'on'}"><button class="secondary" type="submit">${e.enabled ? m.webhooks.turnOff : m.webhooks.turnOn}</button></form>
<h3>${m.webhooks.deliveries(e.url)}</h3>
${deliveriesTable(ctx, e, deliveries)}`)}
<h2>${m.webhooks.add}</h2>
${error ? html`<div class="error-summary" role="alert"><p>${error}</p></div>` : ''}
<form method="post" action="/admin/webhooks">
<label for="url">${m.webhooks.url}</label><p class="hint" id="url-hint">${m.webhooks.urlHint}</p>
<input type="text" id="url" name="url" inputmode="url" aria-describedby="url-hint" required>
<fieldset><legend>${m.webhooks.events}</legend>
${EVENT_TYPES.map((type) => html`<div><input type="checkbox" id="ev-${type}" name="eventTypes" value="${type}" checked> <label style="display:inline" for="ev-${type}">${type}</label></div>`)}
</fieldset>
<label for="list">${m.webhooks.list}</label><p class="hint" id="list-hint">${m.webhooks.listHint}</p>
<input type="text" id="list" name="list" aria-describedby="list-hint">
<button type="submit">${m.webhooks.addButton}</button>
</form>`, { wide: true })
}

export function secretPage (ctx: PageContext, endpoint: Endpoint, secret: string): string {
  const m = staffIn(ctx.m)
  return layout(ctx, m.webhooks.added, html`
<h1>${m.webhooks.added}</h1>
<p>${endpoint.url}</p>
<p>${m.webhooks.secretOnce}</p>
<p><code>${secret}</code></p>
<p><a href="/admin/webhooks">${m.webhooks.back}</a></p>`)
}
