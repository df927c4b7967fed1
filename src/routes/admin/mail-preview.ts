// Staff preview of the mail templates: GET /admin/mail-preview/:template renders one with sample data, text and
// HTML side by side, so staff see what they edit. The mail's HTML never runs in the page's origin: it is shown in
// a sandboxed iframe (srcdoc), or alone under a CSP that allows no script, no fetch and no remote image.
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { html } from '../../html.js'
import { sendHtml } from '../../http.js'
import { MAIL_KIND_NAMES, isMailKind, rawMessage, sampleMail } from '../../mail/samples.js'
import { errorBody, errors, staffErrors, staffSecurity } from '../../openapi.js'
import { keyed, LANGUAGES } from '../../messages/index.js'
import { requestMessages } from '../../pages/context.js'

const previewQuery = z.object({
  part: z.enum(['page', 'text', 'html', 'eml'], { error: keyed('console.api.fieldOneOf', { field: 'part', values: 'page, text, html, eml' }) }).default('page'),
  // Each language has its own templates (locales/<lang>/mail/).
  lang: z.string().refine((v) => Object.hasOwn(LANGUAGES, v), { error: keyed('console.api.fieldOneOf', { field: 'lang', values: Object.keys(LANGUAGES).join(', ') }) }).default('en')
})

/** For the mail's HTML alone: nothing but its inline styles and inline images, and a sandbox without scripts. */
const MAIL_HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"

export default async function mailPreviewRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()

  app.get('/mail-preview/:template', {
    schema: {
      tags: ['staff'],
      summary: 'Preview a mail template with sample data',
      description: '`confirmation` or `welcome`; `?part=page` (default, HTML page), `html`, `text` or `eml`; `?lang=cy` for the Welsh templates.',
      security: staffSecurity,
      params: z.object({ template: z.string().max(40) }),
      querystring: previewQuery,
      response: {
        200: { description: 'The preview page, or the one part asked for', content: { 'text/html': { schema: z.string() }, 'text/plain': { schema: z.string() }, 'message/rfc822': { schema: z.string() } } },
        400: errors[400],
        404: errorBody('No template of that name'),
        ...staffErrors
      }
    }
  }, async (request, reply) => {
    const { template } = request.params
    if (!isMailKind(template)) {
      const asked = requestMessages(request)
      return reply.code(404).send({ error: 'not_found', message: asked.t('console.api.noTemplate', { template, names: new Intl.ListFormat(asked.lang, { type: 'disjunction' }).format(MAIL_KIND_NAMES) }), field: 'template' })
    }
    const { lang } = request.query
    const message = sampleMail(app.mailSettings, template, { ...app.config, language: lang })
    const text = String(message.text)
    const mailHtml = String(message.html)
    reply.header('cache-control', 'no-store')
    switch (request.query.part) {
      case 'text':
        return reply.type('text/plain; charset=utf-8').send(text)
      case 'html':
        return reply.type('text/html; charset=utf-8').header('content-security-policy', MAIL_HTML_CSP).send(mailHtml)
      case 'eml':
        return reply.type('message/rfc822')
          .header('content-disposition', `attachment; filename="${template}-sample.eml"`)
          .send((await rawMessage({ ...message, dkim: undefined })).toString('utf8'))
    }
    const headerBlock = (await rawMessage({ ...message, dkim: undefined })).toString('utf8').split(/\r?\n\r?\n/)[0]
    const base = `/admin/mail-preview/${template}?lang=${lang}`
    const m = requestMessages(request)
    const title = m.t('console.mailPreview.title', { template, language: LANGUAGES[lang].name })
    return sendHtml(reply, 200, html`<!doctype html>
<html lang="${m.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title}</title></head>
<body style="font-family:system-ui,sans-serif;margin:24px;color:#1a1a1a">
<h1 style="font-size:22px">${title}</h1>
<p>${m.t('console.mailPreview.sample')} ${MAIL_KIND_NAMES.map((k) => html`<a href="/admin/mail-preview/${k}">${k}</a> `)}
· ${m.t('console.mailPreview.asParts')} <a href="${base}&amp;part=html">HTML</a>, <a href="${base}&amp;part=text">${m.t('console.mailPreview.text')}</a>, <a href="${base}&amp;part=eml">.eml</a>
· ${m.t('console.mailPreview.in')} ${Object.values(LANGUAGES).map((l) => html`<a href="/admin/mail-preview/${template}?lang=${l.lang}" lang="${l.lang}">${l.name}</a> `)}</p>
<h2 style="font-size:18px">${m.t('console.mailPreview.subject')}</h2>
<p style="font-size:18px"><strong>${String(message.subject)}</strong></p>
<h2 style="font-size:18px">${m.t('console.mailPreview.htmlPart')}</h2>
<iframe title="${m.t('console.mailPreview.htmlPart')}" sandbox srcdoc="${mailHtml}" style="width:100%;max-width:720px;height:480px;border:1px solid #cccccc"></iframe>
<h2 style="font-size:18px">${m.t('console.mailPreview.textPart')}</h2>
<pre style="white-space:pre-wrap;max-width:720px;border:1px solid #cccccc;padding:12px">${text}</pre>
<h2 style="font-size:18px">${m.t('console.mailPreview.headers')}</h2>
<pre style="white-space:pre-wrap;max-width:720px;border:1px solid #cccccc;padding:12px">${headerBlock}</pre>
</body></html>`.value)
  })
}
