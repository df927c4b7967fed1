// Building blocks for the routes' own OpenAPI facts (tags, summary, responses): each route declares its schema next to
// its handler, and @fastify/swagger turns them into /openapi.json and /docs.
import { z } from 'zod'

export const errorBody = (description: string) => z.looseObject({
  error: z.string().describe('A stable machine-readable code, e.g. invalid_field'),
  message: z.string().describe('What went wrong and what to do, in words a person can read'),
  field: z.string().optional().describe('The request field at fault, when there is one')
}).describe(description)

/** An HTML page answer. */
export const page = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } })

/** A page for browsers, JSON for scripts (chosen by the Accept header). */
export const pageOrJson = (description: string, json: z.ZodType) =>
  ({ description, content: { 'text/html': { schema: z.string() }, 'application/json': { schema: json } } })

/** The error answers the routes share, by status. */
export const errors = {
  400: errorBody('A field is missing or invalid ({error: "invalid_field", field}); a form post gets the form again with the message next to the field.'),
  401: errorBody('No or wrong staff credential; carries WWW-Authenticate: Basic so a browser asks for a login.'),
  403: errorBody('A staff request sent from another website (cross-site): refused.'),
  404: errorBody('Unknown or tampered link: one generic answer, whatever was wrong with it (RFC 8058 §3.1).'),
  410: errorBody('The confirmation link has expired: sign up again for a new one.'),
  413: errorBody('The body is over 16 KiB.'),
  415: errorBody('The body is neither JSON nor a urlencoded form.'),
  429: errorBody('Too many requests from this client: wait for Retry-After seconds.'),
  503: errorBody('The database is unreachable, or (staff endpoints) ADMIN_TOKEN is not set.')
}

/** The errors every staff endpoint can answer. */
export const staffErrors = { 401: errors[401], 403: errors[403], 429: errors[429], 503: errors[503] }

export const staffSecurity: { [label: string]: string[] }[] = [{ bearer: [] }, { basic: [] }]

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
