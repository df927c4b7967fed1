// The frame every page shares: lang, one <h1> per page (the page supplies it), landmarks, brand header,
// privacy link in the footer, and a stylesheet that works at 320 px with a visible keyboard focus.
import { html, raw, type Html } from '../html.js'
import type { Messages } from '../messages/index.js'

export interface Brand {
  listName: string
  logoUrl?: string
  /** Checked at config load for ≥ 4.5:1 against white (src/pages/colour.ts). */
  accentColor: string
  privacyUrl?: string
  consentText: string
}

/** The same page in another language, for the switch in the header. */
export interface LanguageLink { lang: string, name: string, href: string }

export interface PageContext { m: Messages, brand: Brand, languages: LanguageLink[] }

const style = (accent: string) => `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#0b0c0c;background:#fff}
header,main,footer{max-width:36rem;margin:0 auto;padding:0 1rem}
.wide header,.wide main,.wide footer{max-width:64rem}
header{padding-top:1rem;display:flex;align-items:center;gap:.75rem;font-weight:700;font-size:1.125rem}
header img{max-height:3rem;max-width:10rem;height:auto}
main{padding-top:1rem;padding-bottom:2rem}
footer{border-top:1px solid #b1b4b6;padding-top:1rem;padding-bottom:2rem;font-size:.95rem}
h1{font-size:1.75rem;line-height:1.2;margin:0 0 1rem}
h2{font-size:1.3rem;margin:2rem 0 .75rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
.hint{color:#484949;margin:0 0 .25rem;font-size:.95rem}
input[type=email],input[type=text]{width:100%;font:inherit;padding:.5rem;border:2px solid #0b0c0c;border-radius:0;background:#fff;color:#0b0c0c}
button,.button{display:inline-block;font:inherit;font-weight:600;margin-top:1.25rem;padding:.6rem 1.2rem;border:2px solid transparent;border-radius:4px;background:${accent};color:#fff;cursor:pointer;text-decoration:none}
.button.secondary,button.secondary{background:#fff;color:#0b0c0c;border-color:#0b0c0c}
.button.secondary{margin:.25rem .5rem .25rem 0}
button.warning,.button.warning{background:#d4351c;color:#fff}
.warning-text{border-left:6px solid #d4351c;padding:.25rem 0 .25rem .75rem;font-weight:700}
.panel{border:2px solid #0b0c0c;padding:.75rem 1rem;margin:1rem 0;overflow-wrap:anywhere}
.lang{margin-left:auto;font-weight:400;font-size:1rem}
.lang ul{margin:0;padding:0;list-style:none;display:flex;gap:.75rem}
@media (max-width:640px){main form button,main .button{display:block;width:100%;text-align:center}}
a{color:${accent};text-underline-offset:.15em}
:focus-visible{outline:3px solid #fd0;outline-offset:0;box-shadow:0 0 0 6px #0b0c0c}
a:focus-visible{background:#fd0;color:#0b0c0c;box-shadow:0 -2px #fd0,0 4px #0b0c0c;outline:none;text-decoration:none}
.error-summary{border:4px solid #d4351c;padding:1rem;margin-bottom:1.5rem}
.error-summary h2{margin:0 0 .5rem;font-size:1.2rem}
.error-summary ul{margin:0;padding-left:1.25rem}
.error-summary a{color:#d4351c;font-weight:600}
.error-message{color:#d4351c;font-weight:600;margin:0 0 .25rem}
.field-error{border-left:4px solid #d4351c;padding-left:.75rem}
.field-error input{border-color:#d4351c}
.consent{font-size:.95rem;color:#484949}
fieldset{border:0;margin:1rem 0 0;padding:0}
legend{font-weight:600;padding:0}
.checkbox{display:flex;flex-wrap:wrap;align-items:flex-start;gap:0 .6rem;margin:.6rem 0}
.checkbox input{width:1.5rem;height:1.5rem;margin:.1rem 0 0;flex:none;accent-color:${accent}}
.checkbox label{margin:0;font-weight:400;flex:1}
.checkbox .hint{flex-basis:100%;margin-left:2.1rem}
.notice{border-left:5px solid #00703c;padding:.25rem 1rem;margin-bottom:1rem}
.visually-hidden{position:absolute!important;width:1px;height:1px;margin:0;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
table{border-collapse:collapse;margin:.5rem 0 1rem;min-width:50%}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{text-align:left;padding:.35rem .75rem .35rem 0;border-bottom:1px solid #b1b4b6}
td.num,th.num{text-align:right}
.table-scroll{overflow-x:auto;max-height:24rem}
.cards{display:flex;flex-wrap:wrap;gap:1rem;margin:0;padding:0;list-style:none}
.cards li{border:2px solid #b1b4b6;padding:.75rem 1rem;min-width:9rem}
.cards strong{display:block;font-size:1.75rem}
pre{white-space:pre-wrap;word-break:break-word;background:#f3f2f1;border:1px solid #b1b4b6;padding:1rem;font-size:.9rem;overflow-x:auto}
svg{max-width:100%;height:auto}
code{font-size:.95em;overflow-wrap:anywhere}
`

export function layout (ctx: PageContext, title: string, body: Html, opts: { wide?: boolean } = {}): string {
  const { brand, m } = ctx
  return html`<!doctype html>
<html lang="${m.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} – ${brand.listName}</title>
<style>${raw(style(brand.accentColor))}</style>
</head>
<body${opts.wide ? raw(' class="wide"') : ''}>
<header>
${brand.logoUrl ? html`<img src="${brand.logoUrl}" alt="">` : ''}<span>${brand.listName}</span>
${ctx.languages.length > 0
  ? html`<nav class="lang" aria-label="${m.t('meta.languageNav')}"><ul>${ctx.languages.map((l) =>
    html`<li><a href="${l.href}" lang="${l.lang}" hreflang="${l.lang}">${l.name}</a></li>`)}</ul></nav>`
  : ''}
</header>
<main id="content">
${body}
</main>
${brand.privacyUrl ? html`<footer><a href="${brand.privacyUrl}">${m.t('common.privacyLink')}</a></footer>` : ''}
</body>
</html>`.value
}

/** The consent wording exactly as stored with each sign-up, and a link to the privacy policy when configured. */
export const consent = (ctx: PageContext): Html => html`<p class="consent">${ctx.brand.consentText}${ctx.brand.privacyUrl
  ? html` <a href="${ctx.brand.privacyUrl}">${ctx.m.t('common.privacyLink')}</a>`
  : ''}</p>`
