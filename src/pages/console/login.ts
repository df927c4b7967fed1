// The staff login form and the set-password form: plain HTML forms that work without JavaScript, with the
// autocomplete hints password managers need (WCAG 2.2 3.3.8 Accessible Authentication).
import { html } from '../../html.js'
import { layout, type PageContext } from '../layout.js'
import { PASSWORD_MIN } from '../../security/passwords.js'

const errorSummary = (ctx: PageContext, message: string | undefined, field: string) => message
  ? html`<div class="error-summary" role="alert" tabindex="-1"><h2>${ctx.m.t('console.common.problem')}</h2><ul><li><a href="#${field}">${message}</a></li></ul></div>`
  : ''

export function loginPage (ctx: PageContext, opts: { csrf: string, next: string, email?: string, error?: string, notice?: string }): string {
  const { m } = ctx
  return layout(ctx, m.t('console.login.title'), html`
<h1>${m.t('console.login.title')}</h1>
${opts.notice ? html`<p class="notice" role="status" style="border-left:6px solid #00703c;padding:.5rem 1rem">${opts.notice}</p>` : ''}
${errorSummary(ctx, opts.error, 'email')}
<form method="post" action="/admin/login" novalidate>
<input type="hidden" name="_csrf" value="${opts.csrf}">
<input type="hidden" name="next" value="${opts.next}">
<label for="email">${m.t('console.login.email')}</label>
<input type="email" id="email" name="email" autocomplete="username" spellcheck="false" value="${opts.email ?? ''}" required>
<label for="password">${m.t('console.login.password')}</label>
<input type="password" id="password" name="password" autocomplete="current-password" required style="width:100%;font:inherit;padding:.5rem;border:2px solid #0b0c0c">
<button type="submit">${m.t('console.login.button')}</button>
</form>
<p class="hint">${m.t('console.login.forgotten')}</p>`)
}

export function setPasswordPage (ctx: PageContext, opts: { csrf: string, email: string, action: string, error?: string }): string {
  const { m } = ctx
  return layout(ctx, m.t('console.password.title'), html`
<h1>${m.t('console.password.title')}</h1>
${errorSummary(ctx, opts.error, 'password')}
<p>${m.t('console.password.account', { email: opts.email })}</p>
<form method="post" action="${opts.action}" novalidate>
<input type="hidden" name="_csrf" value="${opts.csrf}">
<input type="email" name="username" autocomplete="username" value="${opts.email}" hidden>
<label for="password">${m.t('console.password.label')}</label>
<p class="hint" id="password-hint">${m.t('console.password.hint', { min: PASSWORD_MIN })}</p>
<input type="password" id="password" name="password" autocomplete="new-password" aria-describedby="password-hint" required style="width:100%;font:inherit;padding:.5rem;border:2px solid #0b0c0c">
<button type="submit">${m.t('console.password.button')}</button>
</form>`)
}

export function linkExpiredPage (ctx: PageContext): string {
  const { m } = ctx
  return layout(ctx, m.t('console.password.expiredTitle'), html`
<h1>${m.t('console.password.expiredTitle')}</h1>
<p>${m.t('console.password.expiredBody')}</p>`)
}
