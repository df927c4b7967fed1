// The copy-paste signup form for other websites, and the page staff copy it from (GET /embed).
import { html, type Html } from '../html.js'
import { staffIn } from '../messages/staff.js'
import { layout, type PageContext } from './layout.js'
import type { ListChoice } from './subscriber.js'

/** Which lists the snippet joins: one (a hidden field), or a choice of several (checkboxes, `chosen` ticked). */
export type EmbedLists = { list: string } | { choice: ListChoice[], chosen: string[] } | Record<string, never>

function embedLists (ctx: PageContext, lists: EmbedLists): Html | '' {
  if ('list' in lists) return html`<input type="hidden" name="lists" value="${lists.list}">`
  if (!('choice' in lists)) return ''
  return html`<fieldset>
    <legend>${ctx.m.t('signup.listsLegend')}</legend>
    <input type="hidden" name="lists_shown" value="1">
    ${lists.choice.map((l) => html`<div>
      <input type="checkbox" name="lists" value="${l.slug}" id="joinlist-lists-${l.slug}"${lists.chosen.includes(l.slug) ? html` checked` : ''}>
      <label for="joinlist-lists-${l.slug}">${l.name}</label>
    </div>`)}
  </fieldset>`
}

/** The snippet's own look, optional: plain enough for any site, overridable by the host page's CSS. */
export const EMBED_CSS = `.joinlist{max-width:28rem;font:inherit}.joinlist label{display:block;font-weight:600;margin:.75rem 0 .25rem}
.joinlist input[type=email],.joinlist input[type=text]{width:100%;box-sizing:border-box;font:inherit;padding:.5rem;border:2px solid currentColor}
.joinlist button{font:inherit;font-weight:600;margin-top:1rem;padding:.6rem 1.2rem;cursor:pointer}
.joinlist [data-joinlist-status]:empty{display:none}
.joinlist [data-joinlist-status]{margin-top:1rem;padding:.5rem .75rem;border-left:5px solid currentColor}
.joinlist [data-state=success]{border-color:#00703c;color:#00703c}.joinlist [data-state=error]{border-color:#d4351c;color:#d4351c}
.joinlist [aria-invalid=true]{border-color:#d4351c}
@media (max-width:640px){.joinlist button{width:100%}}`

/**
 * Plain HTML that posts to /subscribe without JavaScript; /embed.js turns it into an inline sign-up when it
 * loads. Ids are prefixed so they do not clash with the host page; the honeypot is off-screen and not tabbable.
 */
export function embedSnippet (ctx: PageContext, publicUrl: string, source = 'website', lists: EmbedLists = {}): string {
  const { m, brand } = ctx
  return html`<form method="post" action="${publicUrl}/subscribe" class="joinlist" lang="${m.lang}" data-joinlist>
  <label for="joinlist-email">${m.t('signup.emailLabel')}</label>
  <input type="email" id="joinlist-email" name="email" autocomplete="email" inputmode="email" spellcheck="false" required maxlength="254">
  <label for="joinlist-name">${m.t('signup.nameLabel')}</label>
  <input type="text" id="joinlist-name" name="name" autocomplete="name" maxlength="100">
  ${embedLists(ctx, lists)}
  <div aria-hidden="true" style="position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden"><input type="text" name="website" tabindex="-1" autocomplete="off" aria-label="website"></div>
  <input type="hidden" name="source" value="${source}">
  <input type="hidden" name="lang" value="${m.lang}">
  <p>${brand.consentText}${brand.privacyUrl ? html` <a href="${brand.privacyUrl}">${m.t('common.privacyLink')}</a>` : ''}</p>
  <button type="submit">${m.t('signup.button')}</button>
  <p data-joinlist-status role="status" aria-live="polite" data-success="${m.t('embed.success')}" data-error="${m.t('embed.error')}" data-sending="${m.t('embed.sending')}"></p>
</form>
<link rel="stylesheet" href="${publicUrl}/embed.css">
<script src="${publicUrl}/embed.js" defer></script>
`.value
}

/** The page staff copy the snippet from. It says nothing about the configuration: anyone may open it. */
export function embedPage (ctx: PageContext, publicUrl: string, lists: EmbedLists = {}): string {
  const m = staffIn(ctx.m)
  const snippet: Html = html`${embedSnippet(ctx, publicUrl, 'website', lists)}`
  return layout(ctx, m.embed.title, html`
<h1>${m.embed.title}</h1>
<p>${m.embed.intro}</p>
<h2 id="snippet-title">${m.embed.snippetLabel}</h2>
<pre tabindex="0" aria-labelledby="snippet-title"><code>${snippet}</code></pre>
<p>${m.embed.sourceHint}</p>
<p>${m.embed.styleHint}</p>`, { wide: true })
}
