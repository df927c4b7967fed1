/* Joinlist embed: enhances <form data-joinlist> on any site. No dependencies, no cookies. Without JavaScript (or
   when this script cannot reach the service) the form is an ordinary form post to /subscribe. */
/* global HTMLFormElement */
(function () {
  'use strict'
  if (!window.fetch || !window.FormData || !document.querySelectorAll) return

  function enhance (form) {
    if (form.getAttribute('data-joinlist-ready')) return
    form.setAttribute('data-joinlist-ready', 'true')
    // A live region must exist before its text changes, or screen readers may not announce it.
    let status = form.querySelector('[data-joinlist-status]')
    if (!status) {
      status = document.createElement('p')
      status.setAttribute('data-joinlist-status', '')
      form.appendChild(status)
    }
    status.setAttribute('role', 'status')
    status.setAttribute('aria-live', 'polite')
    const button = form.querySelector('button[type=submit],button:not([type]),input[type=submit]')
    // The state is visible, not only announced: data-state styles the message (embed.css), and the text says it.
    function show (state, text) {
      if (state) status.setAttribute('data-state', state)
      else status.removeAttribute('data-state')
      status.textContent = text
    }

    form.addEventListener('submit', function (event) {
      event.preventDefault()
      const data = {}
      new FormData(form).forEach(function (value, key) { if (typeof value === 'string') data[key] = value })
      const invalid = form.querySelectorAll('[aria-invalid]')
      for (let i = 0; i < invalid.length; i++) invalid[i].removeAttribute('aria-invalid')
      if (button) button.disabled = true
      show('', status.getAttribute('data-sending') || '')
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
        if (result.status === 202) {
          form.reset()
          // The answer is in the form's language (its hidden `lang` field).
          show('success', body.message || status.getAttribute('data-success'))
          return
        }
        if (result.status === 400 || result.status === 429) {
          show('error', body.message || status.getAttribute('data-error'))
          const field = body.field && form.elements.namedItem(body.field)
          if (field && field.focus) { field.setAttribute('aria-invalid', 'true'); field.focus() }
          return
        }
        throw new Error('unexpected answer ' + result.status)
      }).catch(function () {
        // Not allowed from this origin (CORS), offline, or an unexpected answer: post the form the ordinary way.
        if (button) button.disabled = false
        HTMLFormElement.prototype.submit.call(form)
      })
    })
  }

  function enhanceAll () {
    const forms = document.querySelectorAll('form[data-joinlist]')
    for (let i = 0; i < forms.length; i++) enhance(forms[i])
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', enhanceAll)
  else enhanceAll()
})()
