// The copy-paste signup form for other websites, and the page staff copy it from (GET /embed).
import { html, type Html } from '../html.js'
import { layout, type PageContext } from './layout.js'
import type { ListChoice } from './subscriber.js'

/** Which lists the snippet joins: one (a hidden field), or a choice of several (checkboxes, `chosen` ticked). */
export type EmbedLists = { list: string } | { choice: ListChoice[], chosen: string[] } | Record<string, never>

function embedLists (ctx: PageContext, lists: EmbedLists): Html | '' {
  if ('list' in lists) return html`<input type="hidden" name="lists" value="${lists.list}">`
  if (!('choice' in lists)) return ''
  return html`<fieldset>
    <legend>${ctx.m.signup.listsLegend}</legend>
    <input type="hidden" name="lists_shown" value="1">
    ${lists.choice.map((l) => html`<div>
      <input type="checkbox" name="lists" value="${l.slug}" id="joinlist-lists-${l.slug}"${lists.chosen.includes(l.slug) ? html` checked` : ''}>
      <label for="joinlist-lists-${l.slug}">${l.name}</label>
    </div>`)}
  </fieldset>`
}

/**
 * Plain HTML that posts to /subscribe without JavaScript; /embed.js turns it into an inline sign-up when it
 * loads. Ids are prefixed so they do not clash with the host page.
 */
export function embedSnippet (ctx: PageContext, publicUrl: string, source = 'website', lists: EmbedLists = {}): string {
  const { m, brand } = ctx
  return html`<form method="post" action="${publicUrl}/subscribe" data-joinlist>
  <label for="joinlist-email">${m.signup.emailLabel}</label>
  <input type="email" id="joinlist-email" name="email" autocomplete="email" inputmode="email" spellcheck="false" required maxlength="254">
  ${embedLists(ctx, lists)}
  <input type="hidden" name="source" value="${source}">
  <p>${brand.consentText}${brand.privacyUrl ? html` <a href="${brand.privacyUrl}">${m.privacyLink}</a>` : ''}</p>
  <button type="submit">${m.signup.button}</button>
  <p data-joinlist-status role="status" aria-live="polite"></p>
</form>
<script src="${publicUrl}/embed.js" defer></script>
`.value
}

export function embedPage (ctx: PageContext, publicUrl: string, allowedOrigins: string[], lists: EmbedLists = {}): string {
  const { m } = ctx
  const snippet: Html = html`${embedSnippet(ctx, publicUrl, 'website', lists)}`
  return layout(ctx, m.embed.title, html`
<h1>${m.embed.title}</h1>
<p>${m.embed.intro}</p>
<p>${allowedOrigins.length > 0 ? m.embed.origins(allowedOrigins.join(', ')) : m.embed.noOrigins}</p>
<h2 id="snippet-title">${m.embed.snippetLabel}</h2>
<pre tabindex="0" aria-labelledby="snippet-title"><code>${snippet}</code></pre>
<p>${m.embed.sourceHint}</p>`, { wide: true })
}
