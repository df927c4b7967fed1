// The embeddable form: GET /embed.js (the script other sites load) and GET /embed (the snippet to copy).
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { sha256 } from '../../crypto.js'
import { EMBED_CSS, embedPage } from '../../pages/embed.js'
import { pageContext } from '../../pages/context.js'
import { sendHtml } from '../../http.js'
import { page } from '../../openapi.js'
import { crossOrigin } from './index.js'

const EMBED_JS = readFileSync(new URL('../../../assets/embed.js', import.meta.url), 'utf8')
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
      description: '`?lang=cy` gives the snippet in Welsh. Shows no configuration: anyone may open it.',
      response: { 200: page('The snippet') }
    }
  }, async (request, reply) => sendHtml(reply, 200, embedPage(pageContext(request), app.config.publicUrl)))
}
