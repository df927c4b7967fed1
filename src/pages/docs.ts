// The API documentation page: the generated OpenAPI document rendered as plain HTML (no JavaScript needed).
import { html, type Html } from '../html.js'
import { staffIn } from '../messages/staff.js'
import { layout, type PageContext } from './layout.js'

interface Schema { type?: string | string[], properties?: Record<string, Schema>, required?: string[], description?: string, enum?: unknown[], anyOf?: Schema[] }
interface Operation {
  summary?: string
  description?: string
  tags?: string[]
  parameters?: { name: string, in: string, required?: boolean, schema?: Schema, description?: string }[]
  requestBody?: { content?: Record<string, { schema?: Schema }> }
  responses?: Record<string, { description?: string }>
}
export interface OpenApiDoc { paths?: Record<string, Record<string, Operation>> }

const typeOf = (s: Schema | undefined): string => {
  if (!s) return ''
  if (s.enum) return s.enum.map(String).join(' | ')
  if (s.anyOf) return s.anyOf.map(typeOf).join(' or ')
  return Array.isArray(s.type) ? s.type.join(' | ') : s.type ?? ''
}

function fields (ctx: PageContext, op: Operation): Html | '' {
  const m = staffIn(ctx.m)
  const rows: { name: string, type: string, required: boolean }[] = []
  for (const p of op.parameters ?? []) rows.push({ name: `${p.name} (${p.in})`, type: typeOf(p.schema), required: p.required ?? false })
  const body = op.requestBody?.content?.['application/json']?.schema
  for (const [name, s] of Object.entries(body?.properties ?? {})) rows.push({ name, type: typeOf(s), required: body?.required?.includes(name) ?? false })
  if (rows.length === 0) return ''
  // In a region of its own that scrolls sideways: a long field name or list of values must not widen the page.
  return html`<div class="table-scroll" tabindex="0" role="region" aria-label="${m.docs.request}"><table><caption>${m.docs.request}</caption>
<thead><tr><th scope="col">${m.docs.field}</th><th scope="col">${m.docs.type}</th><th scope="col">${m.docs.required}</th></tr></thead>
<tbody>${rows.map((r) => html`<tr><td><code>${r.name}</code></td><td>${r.type}</td><td>${r.required ? m.docs.yes : m.docs.no}</td></tr>`)}</tbody></table></div>`
}

export function docsPage (ctx: PageContext, doc: OpenApiDoc): string {
  const m = staffIn(ctx.m)
  const ops = Object.entries(doc.paths ?? {}).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })))
  return layout(ctx, m.docs.title, html`
<h1>${m.docs.title}</h1>
<p>${m.docs.intro} <a href="/openapi.json">/openapi.json</a>.</p>
${ops.map(({ path, method, op }) => html`<section aria-labelledby="${`op-${method}-${path}`.replace(/[^a-z0-9-]/gi, '_')}">
<h2 id="${`op-${method}-${path}`.replace(/[^a-z0-9-]/gi, '_')}"><code>${method} ${path}</code> ${op.summary ? html`– ${op.summary}` : ''}</h2>
${op.description ? html`<p>${op.description}</p>` : ''}
${fields(ctx, op)}
<table><caption>${m.docs.responses}</caption><tbody>
${Object.entries(op.responses ?? {}).map(([status, r]) => html`<tr><th scope="row">${status}</th><td>${r.description ?? ''}</td></tr>`)}
</tbody></table>
</section>`)}`, { wide: true })
}
