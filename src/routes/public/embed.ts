// The embeddable form: GET /embed.js (the script other sites load) and GET /embed (the snippet to copy).
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { sha256 } from '../../crypto.js'
import { EMBED_CSS, embedPage, type EmbedLists } from '../../pages/embed.js'
import { forList, pageContext, requestMessages } from '../../pages/context.js'
import { ClientError, sendHtml } from '../../http.js'
import { page } from '../../openapi.js'
import { crossOrigin } from './index.js'

// Served without its indentation and whole-line comments: every page that embeds the form loads it. (The file has
// no template literals or multi-line strings, so only whitespace at the start of a line goes.)
const EMBED_JS = readFileSync(new URL('../../../assets/embed.js', import.meta.url), 'utf8')
  .replace(/^[ \t]*\/\/.*\n/gm, '').replace(/^[ \t]+/gm, '')
const EMBED_ETAG = `"${sha256(EMBED_JS).toString('base64url').slice(0, 16)}"`
const CSS_ETAG = `"${sha256(EMBED_CSS).toString('base64url').slice(0, 16)}"`

export default async function embedRoutes (app: FastifyInstance) {
  app.get('/embed.js', {
    config: crossOrigin(app.config.allowedOrigins),
    schema: {
      tags: ['embed'],
      summary: 'The embeddable form script',
      description: 'Enhances `<form data-joinlist>` on any site; no dependencies, no cookies.',
      response: {
        200: { description: 'JavaScript', content: { 'text/javascript': { schema: z.string() } } },
        304: z.undefined().describe('Not modified (If-None-Match)')
      }
    }
  }, async (request, reply) => {
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      // Loaded by <script src> from other sites: helmet's default same-origin CORP would block it.
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('cache-control', 'public, max-age=3600')
      .header('etag', EMBED_ETAG)
    if (request.headers['if-none-match'] === EMBED_ETAG) return reply.code(304).send()
    return reply.send(EMBED_JS)
  })

  app.get('/embed.css', {
    config: crossOrigin(app.config.allowedOrigins),
    schema: {
      tags: ['embed'],
      summary: 'The optional stylesheet of the embeddable form',
      response: {
        200: { description: 'CSS', content: { 'text/css': { schema: z.string() } } },
        304: z.undefined().describe('Not modified (If-None-Match)')
      }
    }
  }, async (request, reply) => {
    reply
      .header('content-type', 'text/css; charset=utf-8')
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('cache-control', 'public, max-age=3600')
      .header('etag', CSS_ETAG)
    if (request.headers['if-none-match'] === CSS_ETAG) return reply.code(304).send()
    return reply.send(EMBED_CSS)
  })

  app.get('/embed', {
    schema: {
      tags: ['embed'],
      summary: 'The copy-paste snippet for other websites',
      description: '`?lang=cy` gives the snippet in Welsh; `?list=<slug>`: a form that joins that list only. Without it, and with several lists, the form offers the public lists as checkboxes. Shows no configuration: anyone may open it.',
      querystring: z.object({ list: z.string().max(63).optional(), lang: z.string().max(20).optional() }),
      response: { 200: page('The snippet'), 404: page('No such list') }
    }
  }, async (request, reply) => {
    const offered = await app.lists.offered()
    const { list: slug } = request.query as { list?: string }
    const ctx = pageContext(request)
    if (slug !== undefined) {
      const list = offered.find((l) => l.slug === slug)
      if (!list) throw new ClientError(404, 'not_found', requestMessages(request).t('api.notFound'))
      return sendHtml(reply, 200, embedPage(forList(ctx, list), app.config.publicUrl, { list: list.slug }))
    }
    const lists: EmbedLists = offered.length > 1
      ? { choice: offered.map((l) => ({ slug: l.slug, name: l.name, description: l.description })), chosen: offered.filter((l) => l.isDefault).map((l) => l.slug) }
      : {}
    return sendHtml(reply, 200, embedPage(ctx, app.config.publicUrl, lists))
  })
}
