/* Joinlist embed: enhances <form data-joinlist>. No dependencies, no cookies. Without it (or when the service
   cannot be reached) the form is an ordinary post to /subscribe. */
/* global HTMLFormElement, Event */
(function () {
  'use strict'
  if (!window.fetch || !window.FormData || !document.querySelectorAll) return

  function enhance (form) {
    if (form.getAttribute('data-joinlist-ready')) return
    form.setAttribute('data-joinlist-ready', 'true')
    // A live region must exist before its text changes, or screen readers may not announce it.
    const status = form.querySelector('[data-joinlist-status]') || form.appendChild(document.createElement('p'))
    status.setAttribute('role', 'status')
    status.setAttribute('aria-live', 'polite')
    const button = form.querySelector('button[type=submit],button:not([type]),input[type=submit]')
    const email = form.elements.namedItem('email')
    let choices = null
    let checked = false
    // Visible, not only announced: data-state styles the message (embed.css).
    function show (state, text) {
      if (state) status.setAttribute('data-state', state)
      else status.removeAttribute('data-state')
      status.textContent = text || status.getAttribute('data-' + state) || ''
    }
    function clearChoices () { if (choices) choices.remove(); choices = null }
    function submit () { form.dispatchEvent(new Event('submit', { cancelable: true })) }
    // "Did you mean …?": two buttons; either sends the form again, marked checked.
    function offer (body) {
      choices = document.createElement('p')
      ;[[body.use, body.suggestion], [body.keep]].forEach(function (choice) {
        const b = document.createElement('button')
        b.type = 'button'
        b.textContent = choice[0]
        b.onclick = function () { if (choice[1]) email.value = choice[1]; checked = true; clearChoices(); submit() }
        choices.append(b, ' ')
      })
      status.after(choices)
      choices.firstChild.focus()
    }
    form.addEventListener('input', function (event) { if (event.target === email) checked = false })

    form.addEventListener('submit', function (event) {
      event.preventDefault()
      clearChoices()
      const data = {}
      // Checkboxes of lists: every one ticked, as an array.
      new FormData(form).forEach(function (value, key) {
        if (typeof value !== 'string') return
        if (key === 'lists') (data.lists = data.lists || []).push(value)
        else data[key] = value
      })
      data[checked ? 'checked' : 'suggest'] = '1'
      form.querySelectorAll('[aria-invalid]').forEach(function (f) { f.removeAttribute('aria-invalid') })
      if (button) button.disabled = true
      show('sending')
      fetch(form.action, {
        method: 'POST',
        mode: 'cors',
        credentials: 'omit',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(data)
      }).then(function (response) {
        return response.json().then(function (body) { return { status: response.status, body } })
      }).then(function (result) {
        if (button) button.disabled = false
        const body = result.body || {}
        if (result.status === 200 && body.status === 'check') { show('', body.message); offer(body); return }
        if (result.status === 202) { checked = false; form.reset(); show('success', body.message); return }
        if (result.status === 400 || result.status === 429) {
          show('error', body.message)
          const field = body.field && form.elements.namedItem(body.field)
          if (field && field.focus) { field.setAttribute('aria-invalid', 'true'); field.focus() }
          return
        }
        throw new Error('unexpected answer ' + result.status)
      }).catch(function () {
        // Refused by CORS, offline, or an unexpected answer: the ordinary post.
        if (button) button.disabled = false
        HTMLFormElement.prototype.submit.call(form)
      })
    })
  }

  function enhanceAll () { document.querySelectorAll('form[data-joinlist]').forEach(enhance) }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', enhanceAll)
  else enhanceAll()
})()
