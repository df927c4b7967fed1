// The staff login form and the set-password form: plain HTML forms that work without JavaScript, with the
// autocomplete hints password managers need (WCAG 2.2 3.3.8 Accessible Authentication).
import { html } from '../../html.js'
import { layout, type PageContext } from '../layout.js'
import { PASSWORD_MIN } from '../../security/passwords.js'

const errorSummary = (message: string | undefined, field: string) => message
  ? html`<div class="error-summary" role="alert" tabindex="-1"><h2>There is a problem</h2><ul><li><a href="#${field}">${message}</a></li></ul></div>`
  : ''

export function loginPage (ctx: PageContext, opts: { csrf: string, next: string, email?: string, error?: string, notice?: string }): string {
  return layout(ctx, 'Staff sign in', html`
<h1>Staff sign in</h1>
${opts.notice ? html`<p class="notice" role="status" style="border-left:6px solid #00703c;padding:.5rem 1rem">${opts.notice}</p>` : ''}
${errorSummary(opts.error, 'email')}
<form method="post" action="/admin/login" novalidate>
<input type="hidden" name="_csrf" value="${opts.csrf}">
<input type="hidden" name="next" value="${opts.next}">
<label for="email">Email address</label>
<input type="email" id="email" name="email" autocomplete="username" spellcheck="false" value="${opts.email ?? ''}" required>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required style="width:100%;font:inherit;padding:.5rem;border:2px solid #0b0c0c">
<button type="submit">Sign in</button>
</form>
<p class="hint">Forgotten your password? Ask an owner of this console for a new link.</p>`)
}

export function setPasswordPage (ctx: PageContext, opts: { csrf: string, email: string, action: string, error?: string }): string {
  return layout(ctx, 'Set your password', html`
<h1>Set your password</h1>
${errorSummary(opts.error, 'password')}
<p>For the staff account ${opts.email}.</p>
<form method="post" action="${opts.action}" novalidate>
<input type="hidden" name="_csrf" value="${opts.csrf}">
<input type="email" name="username" autocomplete="username" value="${opts.email}" hidden>
<label for="password">New password</label>
<p class="hint" id="password-hint">At least ${PASSWORD_MIN} characters. A few unrelated words make a good one; common passwords are refused.</p>
<input type="password" id="password" name="password" autocomplete="new-password" aria-describedby="password-hint" required style="width:100%;font:inherit;padding:.5rem;border:2px solid #0b0c0c">
<button type="submit">Set password</button>
</form>`)
}

export function linkExpiredPage (ctx: PageContext): string {
  return layout(ctx, 'This link does not work', html`
<h1>This link does not work</h1>
<p>It has been used already, has expired (links last 72 hours) or the account is disabled. Ask an owner of this console for a new one.</p>`)
}
