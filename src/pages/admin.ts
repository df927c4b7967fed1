// The staff dashboard: counts by status, a server-rendered SVG chart of sign-ups per day (with the same numbers
// as a table, its text alternative: WCAG 1.1.1), the confirmation rate, outbox health and the CSV downloads; and
// the page a staff request from another website gets instead.
import { html, raw, type Html } from '../html.js'
import type { DashboardStats, DayStats } from '../domain/stats.js'
import type { SubscriberStatus } from '../db/schema.js'
import { staffIn } from '../messages/staff.js'
import { layout, type PageContext } from './layout.js'

// In the order staff read them: members first.
const STATUSES = ['confirmed', 'pending', 'unsubscribed'] as const satisfies readonly SubscriberStatus[]

function chart (ctx: PageContext, days: DayStats[]): Html {
  const m = staffIn(ctx.m)
  const width = 900
  const height = 240
  const left = 40
  const bottom = 24
  const plotH = height - bottom - 10
  const max = Math.max(1, ...days.map((d) => d.confirmed + d.pending))
  const step = (width - left) / days.length
  const barW = Math.max(1, step - 2)
  const y = (n: number) => (n / max) * plotH
  const bars = days.map((d, i) => {
    const x = (left + i * step).toFixed(1)
    const hc = y(d.confirmed)
    const hp = y(d.pending)
    return html`<g><title>${d.day}: ${d.confirmed} ${m.dashboard.confirmed.toLowerCase()}, ${d.pending} ${m.dashboard.pending.toLowerCase()}</title>`
      .value + (hc > 0 ? `<rect x="${x}" y="${(10 + plotH - hc).toFixed(1)}" width="${barW.toFixed(1)}" height="${hc.toFixed(1)}" class="c"/>` : '') +
      (hp > 0 ? `<rect x="${x}" y="${(10 + plotH - hc - hp).toFixed(1)}" width="${barW.toFixed(1)}" height="${hp.toFixed(1)}" class="p"/>` : '') + '</g>'
  }).join('')
  const label = (i: number, anchor: 'start' | 'middle' | 'end') => days[i]
    ? html`<text x="${(anchor === 'start' ? left : anchor === 'end' ? width : left + i * step + step / 2).toFixed(1)}" y="${height - 6}" text-anchor="${anchor}">${days[i].day}</text>`
    : ''
  const total = days.reduce((s, d) => s + d.signups, 0)
  const confirmed = days.reduce((s, d) => s + d.confirmed, 0)
  const pending = days.reduce((s, d) => s + d.pending, 0)
  return html`<figure style="margin:0">
<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="chart-title chart-desc" font-size="13" font-family="system-ui,Arial,sans-serif">
  <title id="chart-title">${m.dashboard.chart}</title>
  <desc id="chart-desc">${m.dashboard.chartSummary(total, confirmed, pending)}</desc>
  <defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
    <rect width="6" height="6" fill="#fff"/><rect width="3" height="6" fill="#505a5f"/></pattern></defs>
  <style>.c{fill:${ctx.brand.accentColor}}.p{fill:url(#hatch);stroke:#505a5f;stroke-width:1}text{fill:#0b0c0c}</style>
  <line x1="${left}" y1="${10 + plotH}" x2="${width}" y2="${10 + plotH}" stroke="#0b0c0c"/>
  <line x1="${left}" y1="10" x2="${left}" y2="${10 + plotH}" stroke="#0b0c0c"/>
  <text x="${left - 6}" y="16" text-anchor="end">${max}</text>
  <text x="${left - 6}" y="${10 + plotH}" text-anchor="end">0</text>
  ${label(0, 'start')}${label(Math.floor(days.length / 2), 'middle')}${label(days.length - 1, 'end')}
  ${raw(bars)}
</svg>
<figcaption>
  <p>${m.dashboard.chartSummary(total, confirmed, pending)}</p>
  <p aria-hidden="true"><svg width="14" height="14" viewBox="0 0 14 14"><rect width="14" height="14" fill="${ctx.brand.accentColor}"/></svg> ${m.dashboard.confirmed}
  &nbsp; <svg width="14" height="14" viewBox="0 0 14 14"><rect width="14" height="14" fill="url(#hatch)" stroke="#505a5f"/></svg> ${m.dashboard.pending}</p>
</figcaption>
</figure>`
}

function dayTable (ctx: PageContext, days: DayStats[]): Html {
  const m = staffIn(ctx.m)
  const withSignups = days.filter((d) => d.signups > 0).reverse()
  if (withSignups.length === 0) return html`<p>${m.dashboard.noDays}</p>`
  return html`<div class="table-scroll" tabindex="0" role="region" aria-labelledby="days-caption"><table>
<caption id="days-caption">${m.dashboard.chartTable}</caption>
<thead><tr><th scope="col">${m.dashboard.day}</th><th scope="col" class="num">${m.dashboard.signups}</th><th scope="col" class="num">${m.dashboard.confirmed}</th><th scope="col" class="num">${m.dashboard.pending}</th></tr></thead>
<tbody>${withSignups.map((d) => html`<tr><th scope="row">${d.day}</th><td class="num">${d.signups}</td><td class="num">${d.confirmed}</td><td class="num">${d.pending}</td></tr>`)}</tbody>
</table></div>`
}

/** `nav`: the staff console's navigation (src/pages/console/frame.ts), which links to every console page. */
export function dashboardPage (ctx: PageContext, stats: DashboardStats, nav: Html = html``): string {
  const m = staffIn(ctx.m)
  const total = stats.days.reduce((s, d) => s + d.signups, 0)
  const confirmed = stats.days.reduce((s, d) => s + d.confirmed, 0)
  const percent = total > 0 ? `${Math.round((confirmed / total) * 1000) / 10}%` : ''
  return layout(ctx, m.dashboard.title, html`${nav}
<h1>${m.dashboard.title}</h1>
<h2>${m.dashboard.subscribers}</h2>
<ul class="cards">
${STATUSES.map((s) => html`<li><strong>${stats.byStatus[s]}</strong> ${m.dashboard.statuses[s]}</li>`)}
</ul>
<h2>${m.dashboard.downloads}</h2>
<p>${STATUSES.map((s) => html`<a class="button secondary" href="/admin/subscribers.csv?status=${s}" download>${m.dashboard.downloadStatus(s)}</a> `)}
<a class="button secondary" href="/admin/subscribers.csv?status=all" download>${m.dashboard.downloadStatus('all')}</a></p>
<p><a class="button secondary" href="/admin/subscribers.csv?status=all&amp;format=excel" download>${m.dashboard.downloadExcel}</a></p>
<p>${m.dashboard.excelHint}</p>
<h2>${m.dashboard.rate}</h2>
<p>${total > 0 ? m.dashboard.rateText(confirmed, total, percent) : m.dashboard.rateNone}</p>
<h2>${m.dashboard.chart}</h2>
${chart(ctx, stats.days)}
${dayTable(ctx, stats.days)}
<h2>${m.dashboard.mail}</h2>
<ul class="cards">
<li><strong>${stats.outbox.backlog}</strong> ${m.dashboard.backlog}</li>
<li><strong>${stats.outbox.dead}</strong> ${m.dashboard.dead}</li>
<li><strong>${stats.outbox.sent}</strong> ${m.dashboard.sent}</li>
</ul>
${stats.outbox.dead > 0 ? html`<p>${m.dashboard.deadHint}</p>` : ''}
<h2>${m.dashboard.links}</h2>
<ul><li><a href="/embed">${m.dashboard.embedLink}</a></li><li><a href="/docs">${m.dashboard.docsLink}</a></li></ul>`, { wide: true })
}

/** A staff page reached from another website: why it is refused, and (for a read) the same address on this site. */
export function crossSitePage (ctx: PageContext, here: string | undefined): string {
  const m = staffIn(ctx.m)
  return layout(ctx, m.crossSite.title, html`
<h1>${m.crossSite.title}</h1>
<p>${m.crossSite.body}</p>
${here ? html`<p><a href="${here}">${m.crossSite.link}</a></p>` : html`<p><a href="/admin">${m.crossSite.noLink}</a></p>`}`)
}
