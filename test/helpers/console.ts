// The staff console as a member of staff uses it: an account made the way the CLI makes one, its password set
// through the one-time link, a login through the form, and a cookie jar so later requests carry the session and the
// CSRF token like a browser would.
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Database } from '../../src/db/client.js'
import { addStaff, issuePasswordLink, type StaffRole } from '../../src/domain/staff.js'

export const STAFF_PASSWORD = 'plenty of unrelated words here'

export interface StaffBrowser {
  email: string
  /** Sends a request with the jar's cookies; stores the cookies it sets. */
  request(opts: InjectOptions): Promise<LightMyRequestResponse>
  /** GET a page and return the CSRF token of its first form. */
  csrfFrom(url: string): Promise<string>
  /** POST a form from a page, with that page's CSRF token. */
  post(url: string, fields?: Record<string, string>, from?: string): Promise<LightMyRequestResponse>
  cookies: Map<string, string>
}

export function browserFor (app: FastifyInstance, email = ''): StaffBrowser {
  const cookies = new Map<string, string>()
  const b: StaffBrowser = {
    email,
    cookies,
    async request (opts) {
      const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ')
      const res = await app.inject({ ...opts, headers: { accept: 'text/html', ...(cookie ? { cookie } : {}), ...(opts.headers ?? {}) } })
      for (const c of res.cookies as { name: string, value: string, maxAge?: number, expires?: Date }[]) {
        if (c.value === '' || (c.expires && c.expires.getTime() < Date.now())) cookies.delete(c.name)
        else cookies.set(c.name, c.value)
      }
      return res
    },
    async csrfFrom (url) {
      const res = await b.request({ url })
      const match = /name="_csrf" value="([^"]+)"/.exec(res.body)
      if (!match) throw new Error(`no CSRF token on ${url} (${res.statusCode}): ${res.body.slice(0, 300)}`)
      return match[1]
    },
    async post (url, fields = {}, from) {
      const csrf = await b.csrfFrom(from ?? url)
      return await b.request({ method: 'POST', url, payload: new URLSearchParams({ _csrf: csrf, ...fields }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    }
  }
  return b
}

/** An account of this role with its password set through its link, signed in through the login form. */
export async function signedIn (app: FastifyInstance, database: Database, role: StaffRole, email = `${role}@staff.example.org`): Promise<StaffBrowser> {
  const added = await addStaff(database, email, role, 'test', new Date())
  if (!added.ok) throw new Error(added.message)
  const token = await issuePasswordLink(database, added.account.id, new Date())
  const b = browserFor(app, email)
  const set = await b.post(`/admin/password/${token}`, { password: STAFF_PASSWORD })
  if (set.statusCode !== 303) throw new Error(`setting the password answered ${set.statusCode}: ${set.body.slice(0, 300)}`)
  const login = await b.post('/admin/login', { email, password: STAFF_PASSWORD })
  if (login.statusCode !== 303) throw new Error(`login answered ${login.statusCode}: ${login.body.slice(0, 300)}`)
  return b
}
