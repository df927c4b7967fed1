// The pages a visitor and a subscriber see: signup, thanks, confirm, confirmed, unsubscribe, unsubscribed and
// the broken-link page. All work without JavaScript; errors follow the GOV.UK error summary pattern.
import { html, type Html } from '../html.js'
import { consent, layout, type PageContext } from './layout.js'

export interface SignupForm {
  email?: string
  name?: string
  source?: string
  error?: { field: string, message: string }
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
    <legend>${m.signup.listsLegend}</legend>
    <p class="hint" id="lists-hint">${m.signup.listsHint}</p>
    ${bad ? html`<p class="error-message" id="lists-error"><span class="visually-hidden">${m.errorPrefix}</span> ${error.message}</p>` : ''}
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
  <h2 id="error-summary-title">${ctx.m.signup.errorSummaryTitle}</h2>
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
    ${bad ? html`<p class="error-message" id="${name}-error"><span class="visually-hidden">${m.errorPrefix}</span> ${err.message}</p>` : ''}
    ${input(bad ? html` aria-describedby="${name}-error" aria-invalid="true"` : '')}
  </div>`
  }
  return html`<form method="post" action="/subscribe" novalidate>
  ${field('email', m.signup.emailLabel, (extra) => html`<input type="email" id="email" name="email" autocomplete="email" inputmode="email" spellcheck="false" autocapitalize="none" required maxlength="254" value="${form.email ?? ''}"${extra}>`)}
  ${opts.withName ? field('name', m.signup.nameLabel, (extra) => html`<input type="text" id="name" name="name" autocomplete="name" maxlength="100" value="${form.name ?? ''}"${extra}>`) : ''}
  ${form.choice ? listChoice(ctx, form.choice, err) : ''}
  ${form.list ? html`<input type="hidden" name="lists" value="${form.list}">` : ''}
  ${form.source ? html`<input type="hidden" name="source" value="${form.source}">` : ''}
  ${botFields(form.formStamp)}
  ${consent(ctx)}
  <button type="submit" id="subscribe">${opts.button}</button>
</form>`
}

export function signupPage (ctx: PageContext, form: SignupForm = {}): string {
  const { m, brand } = ctx
  const title = m.signup.heading(brand.listName)
  return layout(ctx, form.error ? `${m.errorPrefix} ${title}` : title, html`
${errorSummary(ctx, form.error)}
<h1>${title}</h1>
<p>${m.signup.intro(brand.listName)}</p>
${signupForm(ctx, form, { withName: true, button: m.signup.button })}`)
}

export function thanksPage (ctx: PageContext): string {
  const { m, brand } = ctx
  return layout(ctx, m.thanks.title, html`
<h1>${m.thanks.title}</h1>
<p>${m.thanks.body(brand.listName)}</p>
<p>${m.thanks.next}</p>
<p>${m.thanks.spam}</p>`)
}

export function confirmPage (ctx: PageContext, action: string): string {
  const { m, brand } = ctx
  return layout(ctx, m.confirm.title, html`
<h1>${m.confirm.title}</h1>
<p>${m.confirm.body(brand.listName)}</p>
<form method="post" action="${action}">
  <button type="submit">${m.confirm.button}</button>
</form>`)
}

export function confirmedPage (ctx: PageContext, already: boolean): string {
  const { m, brand } = ctx
  return layout(ctx, m.confirmed.title, html`
<h1>${m.confirmed.title}</h1>
<p>${already ? m.confirmed.already(brand.listName) : m.confirmed.body(brand.listName)}</p>
<p>${m.confirmed.leave}</p>`)
}

/**
 * The unsubscribe page. From a mail for one list of several, the button leaves that list, and the page offers
 * leaving all lists (`all=1`) and the preference page too.
 */
export function unsubscribePage (ctx: PageContext, action: string, several?: { manageUrl: string }): string {
  const { m, brand } = ctx
  return layout(ctx, m.unsubscribe.title, html`
<h1>${m.unsubscribe.title}</h1>
<p>${m.unsubscribe.body(brand.listName)}</p>
<form method="post" action="${action}">
  <button type="submit">${m.unsubscribe.button}</button>
  ${several
    ? html`<p>${m.unsubscribe.leaveAllHint}</p>
  <button type="submit" name="all" value="1" class="secondary">${m.unsubscribe.leaveAll}</button>`
    : ''}
  <p>${m.unsubscribe.eraseHint}</p>
  <button type="submit" name="erase" value="1" class="secondary">${m.unsubscribe.eraseButton}</button>
</form>
${several ? html`<p><a href="${several.manageUrl}">${m.unsubscribe.manage}</a></p>` : ''}`)
}

export interface ManagedList { slug: string, name: string, description: string | null, checked: boolean, waiting: boolean }

/** The preference page: every list the subscriber may choose, ticked where they are on it; leave all; delete. */
export function managePage (ctx: PageContext, action: string, lists: ManagedList[], opts: { saved?: boolean, error?: string } = {}): string {
  const { m } = ctx
  return layout(ctx, opts.error ? `${m.errorPrefix} ${m.manage.title}` : m.manage.title, html`
${opts.error ? errorSummary(ctx, { field: 'lists', message: opts.error }) : ''}
${opts.saved ? html`<div class="notice" role="status"><p>${m.manage.saved}</p></div>` : ''}
<h1>${m.manage.title}</h1>
<p>${m.manage.intro}</p>
<form method="post" action="${action}">
  <fieldset>
    <legend>${m.manage.legend}</legend>
    <input type="hidden" name="lists_shown" value="1">
    ${lists.map((l, i) => html`<div class="checkbox">
      <input type="checkbox" name="lists" value="${l.slug}" id="${i === 0 ? 'lists' : `lists-${l.slug}`}"${l.checked ? html` checked` : ''}>
      <label for="${i === 0 ? 'lists' : `lists-${l.slug}`}">${l.name}${l.waiting ? html` <span class="hint">${m.manage.waiting}</span>` : ''}</label>
      ${l.description ? html`<p class="hint">${l.description}</p>` : ''}
    </div>`)}
  </fieldset>
  <button type="submit">${m.manage.save}</button>
</form>
<form method="post" action="${action}">
  <p>${m.manage.leaveAllHint}</p>
  <button type="submit" name="all" value="1" class="secondary">${m.manage.leaveAll}</button>
  <p>${m.unsubscribe.eraseHint}</p>
  <button type="submit" name="erase" value="1" class="secondary">${m.unsubscribe.eraseButton}</button>
</form>`)
}

export function erasedPage (ctx: PageContext): string {
  const { m, brand } = ctx
  return layout(ctx, m.erased.title, html`
<h1>${m.erased.title}</h1>
<p>${m.erased.body(brand.listName)}</p>
<p>${m.unsubscribed.resubscribe} <a href="/">${m.unsubscribed.resubscribeLink}</a>.</p>`)
}

export function unsubscribedPage (ctx: PageContext): string {
  const { m, brand } = ctx
  return layout(ctx, m.unsubscribed.title, html`
<h1>${m.unsubscribed.title}</h1>
<p>${m.unsubscribed.body(brand.listName)}</p>
<p>${m.unsubscribed.resubscribe} <a href="/">${m.unsubscribed.resubscribeLink}</a>.</p>`)
}

/** An expired or unknown confirm/unsubscribe link: says what happened and asks for a new confirmation link. */
export function invalidLinkPage (ctx: PageContext, expired: boolean): string {
  const { m } = ctx
  const title = expired ? m.invalidLink.expiredTitle : m.invalidLink.invalidTitle
  return layout(ctx, title, html`
<h1>${title}</h1>
<p>${expired ? m.invalidLink.expired : m.invalidLink.invalid}</p>
${signupForm(ctx, {}, { withName: false, button: m.invalidLink.button })}`)
}

/** `specific`: the message says more than the page language's general one for the status, and is shown instead. */
export function errorPage (ctx: PageContext, status: number, message: string, specific = false): string {
  const { m } = ctx
  // Own properties only, like every lookup keyed by something a request chose.
  const title = Object.hasOwn(m.errors.titles, status) ? m.errors.titles[status] : m.errors.titles.other
  return layout(ctx, title, html`
<h1>${title}</h1>
<p>${specific ? message : Object.hasOwn(m.errors.bodies, status) ? m.errors.bodies[status] : message}</p>
<p><a href="/">${m.errors.backHome}</a></p>`)
}
