// Server-rendered pages: work without JavaScript, one <h1>, real labels, GOV.UK-style error summary.
import { html, raw, type Html } from './html.js'

export interface PageContext { listName: string }

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#0b0c0c;background:#fff}
main{max-width:36rem;margin:0 auto;padding:1.5rem 1rem}
h1{font-size:1.75rem;line-height:1.2;margin:0 0 1rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
.hint{color:#484949;margin:0 0 .25rem;font-size:.95rem}
input[type=email],input[type=text]{width:100%;font:inherit;padding:.5rem;border:2px solid #0b0c0c;border-radius:0}
button{font:inherit;font-weight:600;margin-top:1.25rem;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#1d4ed8;color:#fff;cursor:pointer}
button.secondary{background:#eef;color:#0b0c0c;border:2px solid #0b0c0c}
:focus-visible{outline:3px solid #fd0;outline-offset:0;box-shadow:0 0 0 5px #0b0c0c}
.error-summary{border:4px solid #d4351c;padding:1rem;margin-bottom:1rem}
.error-summary h2{margin:0 0 .5rem;font-size:1.2rem}
.error-summary a{color:#d4351c;font-weight:600}
.error-message{color:#d4351c;font-weight:600;margin:0 0 .25rem}
.field-error input{border-color:#d4351c}
.consent{font-size:.95rem;color:#484949}
.visually-hidden{position:absolute;width:1px;height:1px;margin:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
a{color:#1d4ed8}
`

function layout (ctx: PageContext, title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} – ${ctx.listName}</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<main id="content">
${body}
</main>
</body>
</html>`.value
}

export interface SignupForm {
  email?: string
  name?: string
  source?: string
  error?: { field: string, message: string }
  /** The signed time the form was served (src/security/bots.ts). */
  formStamp?: string
}

export function signupPage (ctx: PageContext & { consentText: string }, form: SignupForm = {}): string {
  const err = form.error
  const fieldError = (field: string) => err && err.field === field
    ? html`<p class="error-message" id="${field}-error"><span class="visually-hidden">Error:</span> ${err.message}</p>`
    : ''
  const describedBy = (field: string) => err && err.field === field ? `${field}-error` : undefined
  return layout(ctx, err ? `Error: Join our mailing list` : 'Join our mailing list', html`
${err ? html`<div class="error-summary" role="alert" tabindex="-1" aria-labelledby="error-summary-title">
  <h2 id="error-summary-title">There is a problem</h2>
  <ul><li><a href="#${err.field}">${err.message}</a></li></ul>
</div>` : ''}
<h1>Join our mailing list</h1>
<p>Get news from ${ctx.listName} by email. We will send you a link to confirm.</p>
<form method="post" action="/subscribe" novalidate>
  <div class="${err?.field === 'email' ? 'field-error' : ''}">
    <label for="email">Email address</label>
    ${fieldError('email')}
    <input type="email" id="email" name="email" autocomplete="email" inputmode="email" spellcheck="false"
      required maxlength="254" value="${form.email ?? ''}"${describedByAttr(describedBy('email'))}>
  </div>
  <div class="${err?.field === 'name' ? 'field-error' : ''}">
    <label for="name">Name (optional)</label>
    ${fieldError('name')}
    <input type="text" id="name" name="name" autocomplete="name" maxlength="100" value="${form.name ?? ''}"${describedByAttr(describedBy('name'))}>
  </div>
  ${form.source ? html`<input type="hidden" name="source" value="${form.source}">` : ''}
  ${botFields(form.formStamp)}
  <p class="consent">${ctx.consentText}</p>
  <button type="submit">Subscribe</button>
</form>`)
}

/**
 * Bot filters (issue #3): a honeypot people never see (off-screen, not tabbable, hidden from screen readers)
 * and the signed time the form was served, for the minimum time to submit.
 */
export function botFields (stamp: string | undefined): Html {
  return html`<div aria-hidden="true" style="position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden">
    <label for="website">Leave this field empty</label>
    <input type="text" id="website" name="website" tabindex="-1" autocomplete="off" value="">
  </div>
  ${stamp ? html`<input type="hidden" name="form_started" value="${stamp}">` : ''}`
}

const describedByAttr = (id: string | undefined): Html => id ? html` aria-describedby="${id}"` : html``

export function thanksPage (ctx: PageContext): string {
  return layout(ctx, 'Check your email', html`
<h1>Check your email</h1>
<p>If the address can join ${ctx.listName}, a link to confirm your subscription has been emailed to it.</p>
<p>Open the email and press the button in it. You are not subscribed until you do.</p>
<p>No email after a few minutes? Check your spam folder.</p>`)
}

export function confirmPage (ctx: PageContext, action: string): string {
  return layout(ctx, 'Confirm your subscription', html`
<h1>Confirm your subscription</h1>
<p>Press the button to join ${ctx.listName}.</p>
<form method="post" action="${action}">
  <button type="submit">Confirm subscription</button>
</form>`)
}

export function confirmedPage (ctx: PageContext, already: boolean): string {
  return layout(ctx, "You're subscribed", html`
<h1>You're subscribed</h1>
<p>${already ? `You had already confirmed: you are on the ${ctx.listName} list.` : `Thank you. You will now get emails from ${ctx.listName}.`}</p>
<p>Every email has a link to unsubscribe.</p>`)
}

export function unsubscribePage (ctx: PageContext, action: string): string {
  return layout(ctx, 'Unsubscribe', html`
<h1>Unsubscribe</h1>
<p>Press the button to stop getting emails from ${ctx.listName}.</p>
<form method="post" action="${action}">
  <button type="submit">Unsubscribe</button>
  <p>You can also have everything we hold about you deleted. We then keep only a scrambled fingerprint of your address, so it is never added back unless you sign up again yourself.</p>
  <button type="submit" name="erase" value="1" class="secondary">Unsubscribe and delete my data</button>
</form>`)
}

export function erasedPage (ctx: PageContext): string {
  return layout(ctx, 'Your data is deleted', html`
<h1>Your data is deleted</h1>
<p>You are unsubscribed from ${ctx.listName}, and we deleted your address and everything we held about you.</p>
<p>Changed your mind? <a href="/">Sign up again</a>.</p>`)
}

export function unsubscribedPage (ctx: PageContext): string {
  return layout(ctx, "You're unsubscribed", html`
<h1>You're unsubscribed</h1>
<p>You won't hear from ${ctx.listName} again.</p>
<p>Changed your mind? <a href="/">Sign up again</a>.</p>`)
}

export function invalidLinkPage (ctx: PageContext, expired: boolean): string {
  return layout(ctx, expired ? 'This link has expired' : 'This link does not work', html`
<h1>${expired ? 'This link has expired' : 'This link does not work'}</h1>
<p>${expired
    ? 'Confirmation links work for a limited time. Sign up again and we will send you a new one.'
    : 'The link may be incomplete or out of date. Check you copied the whole link, or sign up again.'}</p>
<p><a href="/">Sign up again</a></p>`)
}

export function errorPage (ctx: PageContext, title: string, message: string): string {
  return layout(ctx, title, html`
<h1>${title}</h1>
<p>${message}</p>
<p><a href="/">Go to the signup page</a></p>
`)
}
