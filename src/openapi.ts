// API documentation for integrators: every public and staff endpoint with its answers and errors, merged into
// each route's own zod schema (body, query, params) so /openapi.json is generated from the schemas that validate.
import type { FastifyInstance, RouteOptions } from 'fastify'
import { z } from 'zod'

const errorBody = (description: string) => z.looseObject({
  error: z.string().describe('A stable machine-readable code, e.g. invalid_field'),
  message: z.string().describe('What went wrong and what to do, in words a person can read'),
  field: z.string().optional().describe('The request field at fault, when there is one')
}).describe(description)

const page = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } })
const pageOrJson = (description: string, json: z.ZodType) =>
  ({ description, content: { 'text/html': { schema: z.string() }, 'application/json': { schema: json } } })

const E = {
  400: errorBody('A field is missing or invalid ({error: "invalid_field", field}); a form post gets the form again with the message next to the field.'),
  401: errorBody('No or wrong staff credential; carries WWW-Authenticate: Basic so a browser asks for a login.'),
  404: errorBody('Unknown or tampered link: one generic answer (STANDARDS C6).'),
  410: errorBody('The confirmation link has expired: sign up again for a new one.'),
  413: errorBody('The body is over 16 KiB.'),
  415: errorBody('The body is neither JSON nor a urlencoded form.'),
  429: errorBody('Too many requests from this client: wait for Retry-After seconds.'),
  503: errorBody('The database is unreachable, or (staff endpoints) ADMIN_TOKEN is not set.')
}

const signupAccepted = z.object({ status: z.literal('pending'), message: z.string() })

interface RouteDoc { summary: string, description?: string, tags: string[], response?: Record<string, unknown>, security?: { [label: string]: string[] }[] }

const staffSecurity: { [label: string]: string[] }[] = [{ bearer: [] }, { basic: [] }]

/** Keyed by "METHOD /path" as registered. */
export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'GET /': { summary: 'The signup page', tags: ['pages'], description: 'An HTML form that posts to /subscribe; works without JavaScript. `?source=` is kept in a hidden field.', response: { 200: page('The signup form') } },
  'POST /subscribe': {
    summary: 'Sign up an address',
    tags: ['public'],
    description: 'JSON or a urlencoded form. Always the same answer whatever the address\'s state (STANDARDS C16); a confirmation mail goes out asynchronously. Cross-origin JavaScript calls are allowed from ALLOWED_ORIGINS only (CORS).',
    response: { 202: signupAccepted.describe('JSON request: accepted, a confirmation mail is on its way if the address can join'), 303: z.null().describe('Form post: redirect to /subscribe/thanks'), 400: E[400], 413: E[413], 415: E[415], 429: E[429], 503: E[503] }
  },
  'GET /subscribe/thanks': { summary: 'The "check your email" page', tags: ['pages'], response: { 200: page('Check your email') } },
  'GET /confirm/:token': { summary: 'The confirm page (a button)', tags: ['pages'], description: 'Never changes state: mail scanners fetch links (STANDARDS D26).', response: { 200: page('A page with a "Confirm subscription" button'), 404: page('Invalid link, with a form to request a new one') } },
  'POST /confirm/:token': {
    summary: 'Confirm a subscription',
    tags: ['public'],
    description: 'Repeats are harmless. HTML for browsers, JSON when asked with Accept: application/json.',
    response: { 200: pageOrJson('Confirmed (or already confirmed)', z.object({ status: z.literal('confirmed'), alreadyConfirmed: z.boolean() })), 404: E[404], 410: E[410], 429: E[429], 503: E[503] }
  },
  'GET /unsubscribe/:token': { summary: 'The unsubscribe page (a button)', tags: ['pages'], description: 'Never changes state (STANDARDS A4).', response: { 200: page('A page with an "Unsubscribe" button'), 404: page('Invalid link') } },
  'POST /unsubscribe/:token': {
    summary: 'Unsubscribe (also the RFC 8058 one-click target)',
    tags: ['public'],
    description: 'Body `List-Unsubscribe=One-Click` (urlencoded or multipart) or empty. Always 200 and never a redirect for a valid link; repeats are harmless.',
    response: { 200: pageOrJson('Unsubscribed', z.object({ status: z.literal('unsubscribed') })), 404: E[404], 413: E[413], 429: E[429], 503: E[503] }
  },
  'GET /embed.js': { summary: 'The embeddable form script', tags: ['embed'], description: 'Enhances `<form data-joinlist>` on any site; no dependencies, no cookies.', response: { 200: { description: 'JavaScript', content: { 'text/javascript': { schema: z.string() } } } } },
  'GET /embed': { summary: 'The copy-paste snippet for other websites', tags: ['embed'], response: { 200: page('The snippet') } },
  'GET /admin': { summary: 'The staff dashboard', tags: ['staff'], security: staffSecurity, description: 'Counts by status, sign-ups per day (SVG and a table), confirmation rate, outbox backlog and dead mail, CSV downloads.', response: { 200: page('The dashboard'), 401: E[401], 503: E[503] } },
  'GET /admin/subscribers.csv': {
    summary: 'Export subscribers as CSV',
    tags: ['staff'],
    security: staffSecurity,
    description: 'RFC 4180; cells a spreadsheet would evaluate are prefixed with \'. Streams any list size.',
    response: { 200: { description: 'The CSV file (Content-Disposition: attachment)', content: { 'text/csv': { schema: z.string() } } }, 400: E[400], 401: E[401], 503: E[503] }
  },
  'GET /admin/mail-preview/:template': {
    summary: 'Preview a mail template with sample data',
    tags: ['staff'],
    security: staffSecurity,
    description: '`confirmation` or `welcome`; `?part=page` (default, HTML page), `html`, `text` or `eml`.',
    response: { 200: { description: 'The preview page, or the one part asked for', content: { 'text/html': { schema: z.string() }, 'text/plain': { schema: z.string() }, 'message/rfc822': { schema: z.string() } } }, 400: E[400], 401: E[401], 404: errorBody('No template of that name'), 503: E[503] }
  },
  'GET /admin/subscribers/:email': {
    summary: 'Subject access: everything held about an address',
    tags: ['staff', 'privacy'],
    security: staffSecurity,
    response: { 200: z.looseObject({}).describe('The subscriber, its consent ledger, consent texts and mail, as JSON'), 400: E[400], 401: E[401], 404: errorBody('No data is held about this address'), 503: E[503] }
  },
  'DELETE /admin/subscribers/:email': {
    summary: 'Erasure: delete everything held about an address',
    tags: ['staff', 'privacy'],
    security: staffSecurity,
    description: 'Idempotent; a suppression hash and an anonymised consent ledger remain.',
    response: { 200: z.looseObject({}).describe('Erased (or nothing was held); the address stays suppressed'), 400: E[400], 401: E[401], 503: E[503] }
  },
  'GET /admin/consent-texts/:version': {
    summary: 'One consent text version',
    tags: ['staff', 'privacy'],
    security: staffSecurity,
    response: { 200: z.looseObject({}).describe('{version, text, sha256, createdAt}'), 400: E[400], 401: E[401], 404: errorBody('No such version'), 503: E[503] }
  },
  'GET /openapi.json': { summary: 'This description as OpenAPI 3', tags: ['docs'] },
  'GET /docs': { summary: 'The API documentation page', tags: ['docs'], response: { 200: page('Every endpoint, as HTML') } },
  'GET /healthz': { summary: 'Liveness', tags: ['operations'], response: { 200: z.object({ status: z.literal('ok') }).describe('The process is up') } },
  'GET /readyz': { summary: 'Readiness', tags: ['operations'], response: { 200: z.object({ status: z.literal('ready') }).describe('The database answers'), 503: z.object({ status: z.literal('unavailable'), message: z.string() }).describe('The database does not answer') } }
}

/** Adds the documentation to each route as it is registered; a route's own schema parts win. */
export function documentRoutes (app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    const doc = methods.map((m) => ROUTE_DOCS[`${m} ${route.url}`]).find(Boolean)
    if (!doc) return
    const own = (route.schema ?? {}) as Record<string, unknown>
    const response: Record<string, unknown> = { ...(doc.response ?? {}) }
    for (const [status, schema] of Object.entries((own.response ?? {}) as Record<string, unknown>)) {
      // The route's own schema serializes; the documented description is kept when it has none.
      const documented = doc.response?.[status]
      response[status] = schema instanceof z.ZodType && !schema.description && documented instanceof z.ZodType && documented.description
        ? schema.describe(documented.description)
        : schema
    }
    route.schema = { ...doc, ...own, response }
  })
}

export const OPENAPI_INFO = {
  openapi: {
    openapi: '3.1.0',
    info: { title: 'Joinlist', version: '1', description: 'Double opt-in mailing-list sign-ups: public endpoints, pages and staff endpoints.' },
    components: {
      securitySchemes: {
        bearer: { type: 'http' as const, scheme: 'bearer', description: 'ADMIN_TOKEN' },
        basic: { type: 'http' as const, scheme: 'basic', description: 'Any user name, ADMIN_TOKEN as the password' }
      }
    }
  }
}
