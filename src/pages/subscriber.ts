// The pages a visitor and a subscriber see: signup, thanks, confirm, confirmed, unsubscribe, unsubscribed and
// the broken-link page. All work without JavaScript; errors follow the GOV.UK error summary pattern.
import { html, type Html } from '../html.js'
import { consent, layout, type PageContext } from './layout.js'
import { duration } from '../messages/index.js'

export interface SignupForm {
  email?: string
  name?: string
  source?: string
  /** Where a form from another site asked to go afterwards (kept through an error). */
  redirect?: string
  error?: { field: string, message: string }
  /** A likely typo's correction ("gmial.con" → "gmail.com"), offered before anything is sent. */
  suggestion?: string
  /** The signed time the form was served (src/security/bots.ts). */
  formStamp?: string
  /** Several lists on offer: a fieldset of checkboxes; `chosen` are ticked. */
  choice?: { lists: ListChoice[], chosen: string[] }
  /** The one list this form joins (the page at /l/<slug>), sent as a hidden field. */
  list?: string
}

export interface ListChoice { slug: string, name: string, description: string | null, consentText?: string }

/**
 * The lists as a group of checkboxes (GOV.UK checkboxes pattern): a legend, a hint, and the error next to them. The
 * first checkbox has the id `lists`, where the error summary's link lands. A hidden field says the choice was shown,
 * so ticking nothing is an error rather than "the default lists".
 */
function listChoice (ctx: PageContext, choice: NonNullable<SignupForm['choice']>, error: SignupForm['error']): Html {
  const { m } = ctx
  const bad = error?.field === 'lists'
  const described = ['lists-hint', ...(bad ? ['lists-error'] : [])].join(' ')
  return html`<div${bad ? html` class="field-error"` : ''}>
  <fieldset aria-describedby="${described}">
    <legend>${m.t('signup.listsLegend')}</legend>
    <p class="hint" id="lists-hint">${m.t('signup.listsHint')}</p>
    ${bad ? html`<p class="error-message" id="lists-error"><span class="visually-hidden">${m.t('common.errorPrefix')}</span> ${error.message}</p>` : ''}
    <input type="hidden" name="lists_shown" value="1">
    ${choice.lists.map((l, i) => html`<div class="checkbox">
      <input type="checkbox" name="lists" value="${l.slug}" id="${i === 0 ? 'lists' : `lists-${l.slug}`}"${choice.chosen.includes(l.slug) ? html` checked` : ''}${l.description || l.consentText ? html` aria-describedby="lists-${l.slug}-hint"` : ''}>
      <label for="${i === 0 ? 'lists' : `lists-${l.slug}`}">${l.name}</label>
      ${l.description || l.consentText ? html`<p class="hint" id="lists-${l.slug}-hint">${l.description ?? ''}${l.description && l.consentText ? ' ' : ''}${l.consentText ?? ''}</p>` : ''}
    </div>`)}
  </fieldset>
</div>`
}

/**
 * Bot filters: a honeypot people never see (off-screen, not tabbable, hidden from screen readers)
 * and the signed time the form was served, for the minimum time to submit.
 */
function botFields (stamp: string | undefined): Html {
  return html`<div aria-hidden="true" style="position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden">
    <label for="website">Leave this field empty</label>
    <input type="text" id="website" name="website" tabindex="-1" autocomplete="off" value="">
  </div>
  ${stamp ? html`<input type="hidden" name="form_started" value="${stamp}">` : ''}`
}

/** The GOV.UK error summary: a heading, and a link to the field that needs fixing. */
function errorSummary (ctx: PageContext, err: SignupForm['error']): Html | '' {
  if (!err) return ''
  return html`<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1">
  <h2 id="error-summary-title">${ctx.m.t('signup.errorSummaryTitle')}</h2>
  <ul><li><a href="#${err.field}">${err.message}</a></li></ul>
</div>`
}

/** The signup form: also on the broken-link page, where it asks for a new confirmation link. */
function signupForm (ctx: PageContext, form: SignupForm, opts: { withName: boolean, button: string }): Html {
  const { m } = ctx
  const err = form.error
  const field = (name: string, label: string, input: (describedBy: Html | '') => Html) => {
    const bad = err?.field === name
    return html`<div${bad ? html` class="field-error"` : ''}>
    <label for="${name}">${label}</label>
    ${bad ? html`<p class="error-message" id="${name}-error"><span class="visually-hidden">${m.t('common.errorPrefix')}</span> ${err.message}</p>` : ''}
    ${input(bad ? html` aria-describedby="${name}-error" aria-invalid="true"` : '')}
  </div>`
  }
  return html`<form method="post" action="/subscribe" novalidate>
  ${field('email', m.t('signup.emailLabel'), (extra) => html`<input type="email" id="email" name="email" autocomplete="email" inputmode="email" spellcheck="false" autocapitalize="none" required maxlength="254" value="${form.email ?? ''}"${extra}>`)}
  ${opts.withName ? field('name', m.t('signup.nameLabel'), (extra) => html`<input type="text" id="name" name="name" autocomplete="name" maxlength="100" value="${form.name ?? ''}"${extra}>`) : ''}
  ${form.choice ? listChoice(ctx, form.choice, err) : ''}
  ${form.list ? html`<input type="hidden" name="lists" value="${form.list}">` : ''}
  ${form.source ? html`<input type="hidden" name="source" value="${form.source}">` : ''}
  ${form.redirect ? html`<input type="hidden" name="redirect" value="${form.redirect}">` : ''}
  ${botFields(form.formStamp)}
  ${consent(ctx)}
  <button type="submit" id="subscribe">${opts.button}</button>
</form>`
}

/**
 * "Did you mean …?": two buttons, each sending the form again, one with the suggested address and one with the
 * address as typed; `checked` tells the server not to ask twice. The visitor always has the last word.
 */
function suggestionPanel (ctx: PageContext, form: SignupForm): Html | '' {
  const { m } = ctx
  if (!form.suggestion || !form.email) return ''
  const hidden = (email: string) => html`<input type="hidden" name="email" value="${email}">
    ${form.name ? html`<input type="hidden" name="name" value="${form.name}">` : ''}
    ${form.source ? html`<input type="hidden" name="source" value="${form.source}">` : ''}
    ${form.redirect ? html`<input type="hidden" name="redirect" value="${form.redirect}">` : ''}
    ${form.formStamp ? html`<input type="hidden" name="form_started" value="${form.formStamp}">` : ''}
    <input type="hidden" name="checked" value="1">`
  return html`<div class="panel" role="status" aria-labelledby="suggest-title">
  <h2 id="suggest-title">${m.t('signup.suggestTitle')}</h2>
  <p>${m.t('signup.suggest', { suggestion: form.suggestion })}</p>
  <form method="post" action="/subscribe">${hidden(form.suggestion)}<button type="submit" id="use-suggestion">${m.t('signup.useSuggestion', { suggestion: form.suggestion })}</button></form>
  <form method="post" action="/subscribe">${hidden(form.email)}<button type="submit" class="secondary" id="keep-typed">${m.t('signup.keepTyped', { email: form.email })}</button></form>
</div>`
}

export function signupPage (ctx: PageContext, form: SignupForm = {}): string {
  const { m } = ctx
  const title = m.t('signup.title')
  return layout(ctx, form.error ? `${m.t('common.errorPrefix')} ${title}` : title, html`
${errorSummary(ctx, form.error)}
<h1>${title}</h1>
${suggestionPanel(ctx, form)}
<p>${m.t('signup.intro')}</p>
${signupForm(ctx, form, { withName: true, button: m.t('signup.button') })}`)
}

export interface ThanksView {
  /** The address the visitor typed: shown back to them, nothing they did not type. */
  email?: string
  /** The sign-up page again with what was typed, to correct the address. */
  again?: string
  /** The page of the site the form came from (an allowed origin), and that site's host. */
  back?: { href: string, site: string }
}

export function thanksPage (ctx: PageContext, view: ThanksView = {}): string {
  const { m } = ctx
  return layout(ctx, m.t('thanks.title'), html`
<h1>${m.t('thanks.title')}</h1>
<p>${view.email ? m.t('thanks.sentTo', { email: view.email }) : m.t('thanks.sentGeneric')}</p>
<p>${m.t('thanks.next')}</p>
<p>${m.t('thanks.spam')}</p>
${view.again ? html`<p>${m.t('thanks.wrongAddress')} <a href="${view.again}">${m.t('thanks.goBack')}</a>.</p>` : ''}
${view.back ? html`<p><a href="${view.back.href}">${m.t('common.backToSite', { site: view.back.site })}</a></p>` : ''}`)
}

/** The confirm link of a pending sign-up: a button, since GET never changes anything. */
export function confirmPage (ctx: PageContext, action: string, maskedEmail: string): string {
  const { m } = ctx
  return layout(ctx, m.t('confirm.title'), html`
<h1>${m.t('confirm.title')}</h1>
<p>${m.t('confirm.body', { email: maskedEmail })}</p>
<form method="post" action="${action}">
  <button type="submit">${m.t('confirm.button')}</button>
</form>`)
}

export function confirmedPage (ctx: PageContext, already: boolean, maskedEmail: string): string {
  const { m } = ctx
  const title = already ? m.t('alreadySubscribed.title') : m.t('confirmed.title')
  return layout(ctx, title, html`
<h1>${title}</h1>
<p>${already ? m.t('alreadySubscribed.body', { email: maskedEmail }) : m.t('confirmed.body', { email: maskedEmail })}</p>
<p>${m.t('confirmed.leave')}</p>`)
}

/**
 * The unsubscribe page. From a mail for one list of several, the button leaves that list, and the page offers
 * leaving all lists (`all=1`) and the preference page too. Deleting the data is a step of its own (`eraseUrl`).
 */
export function unsubscribePage (ctx: PageContext, action: string, maskedEmail: string,
  links: { eraseUrl: string, manageUrl?: string, list?: string }): string {
  const { m } = ctx
  return layout(ctx, m.t('unsubscribe.title'), html`
<h1>${m.t('unsubscribe.title')}</h1>
<p>${links.list ? m.t('unsubscribe.bodyList', { list: links.list, email: maskedEmail }) : m.t('unsubscribe.body', { email: maskedEmail })}</p>
<form method="post" action="${action}">
  <button type="submit">${m.t('unsubscribe.button')}</button>
  ${links.manageUrl
    ? html`<p>${m.t('unsubscribe.leaveAllHint')}</p>
  <button type="submit" name="all" value="1" class="secondary">${m.t('unsubscribe.leaveAll')}</button>`
    : ''}
</form>
${links.manageUrl ? html`<p><a href="${links.manageUrl}">${m.t('unsubscribe.manage')}</a></p>` : ''}
<p>${m.t('unsubscribe.eraseHint')} <a href="${links.eraseUrl}">${m.t('unsubscribe.eraseLink')}</a></p>`)
}

/** The erasure's own step: what goes, what stays, that it cannot be undone; the button is a warning button. */
export function erasePage (ctx: PageContext, action: string, maskedEmail: string): string {
  const { m } = ctx
  return layout(ctx, m.t('erase.title'), html`
<h1>${m.t('erase.title')}</h1>
<p>${m.t('erase.body', { email: maskedEmail })}</p>
<ul><li>${m.t('erase.itemAddress')}</li><li>${m.t('erase.itemEvidence')}</li><li>${m.t('erase.itemMail')}</li></ul>
<p>${m.t('erase.kept')}</p>
<p class="warning-text">${m.t('erase.warning')}</p>
<form method="post" action="${action}">
  <input type="hidden" name="erase" value="1">
  <button type="submit" class="warning">${m.t('erase.button')}</button>
</form>
<p><a href="${action}">${m.t('erase.cancel')}</a></p>`)
}

export interface ManagedList { slug: string, name: string, description: string | null, checked: boolean, waiting: boolean }

/**
 * The preference page: every list the subscriber may choose, ticked where they are on it; leave all; and a link to
 * the step that deletes their data (`eraseUrl`).
 */
export function managePage (ctx: PageContext, action: string, lists: ManagedList[],
  opts: { eraseUrl: string, saved?: boolean, error?: string }): string {
  const { m } = ctx
  const title = m.t('manage.title')
  return layout(ctx, opts.error ? `${m.t('common.errorPrefix')} ${title}` : title, html`
${opts.error ? errorSummary(ctx, { field: 'lists', message: opts.error }) : ''}
${opts.saved ? html`<div class="notice" role="status"><p>${m.t('manage.saved')}</p></div>` : ''}
<h1>${title}</h1>
<p>${m.t('manage.intro')}</p>
<form method="post" action="${action}">
  <fieldset>
    <legend>${m.t('manage.legend')}</legend>
    <input type="hidden" name="lists_shown" value="1">
    ${lists.map((l, i) => html`<div class="checkbox">
      <input type="checkbox" name="lists" value="${l.slug}" id="${i === 0 ? 'lists' : `lists-${l.slug}`}"${l.checked ? html` checked` : ''}>
      <label for="${i === 0 ? 'lists' : `lists-${l.slug}`}">${l.name}${l.waiting ? html` <span class="hint">${m.t('manage.waiting')}</span>` : ''}</label>
      ${l.description ? html`<p class="hint">${l.description}</p>` : ''}
    </div>`)}
  </fieldset>
  <button type="submit">${m.t('manage.save')}</button>
</form>
<form method="post" action="${action}">
  <p>${m.t('manage.leaveAllHint')}</p>
  <button type="submit" name="all" value="1" class="secondary">${m.t('manage.leaveAll')}</button>
</form>
<p>${m.t('unsubscribe.eraseHint')} <a href="${opts.eraseUrl}">${m.t('unsubscribe.eraseLink')}</a></p>`)
}

export function erasedPage (ctx: PageContext): string {
  const { m } = ctx
  return layout(ctx, m.t('erased.title'), html`
<h1>${m.t('erased.title')}</h1>
<p>${m.t('erased.body')}</p>
<p>${m.t('unsubscribed.resubscribe')} <a href="/">${m.t('unsubscribed.resubscribeLink')}</a>.</p>`)
}

/** After unsubscribing, and the unsubscribe link of someone who has already left: no button that would do nothing. */
export function unsubscribedPage (ctx: PageContext, maskedEmail: string, already = false): string {
  const { m } = ctx
  const title = already ? m.t('alreadyLeft.title') : m.t('unsubscribed.title')
  return layout(ctx, title, html`
<h1>${title}</h1>
<p>${already ? m.t('alreadyLeft.body', { email: maskedEmail }) : m.t('unsubscribed.body', { email: maskedEmail })}</p>
<p>${m.t('unsubscribed.resubscribe')} <a href="/">${m.t('unsubscribed.resubscribeLink')}</a>.</p>`)
}

export type BrokenLink = 'expired' | 'invalid'

/** An expired or unknown confirm/unsubscribe link: says what is true and asks for a new confirmation link. */
export function invalidLinkPage (ctx: PageContext, kind: BrokenLink, ttlHours: number): string {
  const { m } = ctx
  const title = kind === 'expired' ? m.t('invalidLink.expiredTitle') : m.t('invalidLink.invalidTitle')
  return layout(ctx, title, html`
<h1>${title}</h1>
<p>${kind === 'expired' ? m.t('invalidLink.expired', { hours: duration(m, ttlHours * 3600) }) : m.t('invalidLink.invalid')}</p>
${kind === 'invalid' ? html`<p>${m.t('invalidLink.gone')}</p>` : ''}
${signupForm(ctx, {}, { withName: false, button: m.t('invalidLink.button') })}`)
}

/** `specific`: the message says more than the page language's general one for the status, and is shown instead. */
export function errorPage (ctx: PageContext, status: number, message: string, specific = false): string {
  const { m } = ctx
  const key = String(status)
  const title = m.has(`errors.titles.${key}`) ? m.t(`errors.titles.${key}` as never) : m.t('errors.titles.generic')
  const body = specific ? message : m.has(`errors.bodies.${key}`) ? m.t(`errors.bodies.${key}` as never) : message
  return layout(ctx, title, html`
<h1>${title}</h1>
<p>${body}</p>
<p><a href="/">${m.t('common.backToSignup')}</a></p>`)
}
