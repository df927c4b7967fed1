// Owner-only routes (config.staffRole 'owner' on each): staff accounts and API keys, as pages with forms and as JSON
// at /admin/api/keys for scripts. Every change is written to the staff audit trail.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { createApiKey, listApiKeys, revokeApiKey } from '../../domain/api-keys.js'
import { recordAudit } from '../../domain/audit.js'
import { addStaff, getStaff, issuePasswordLink, listStaff, setStaffDisabled, setStaffRole, STAFF_ROLES } from '../../domain/staff.js'
import { ClientError, sendHtml } from '../../http.js'
import { inLanguage, keyed } from '../../messages/index.js'
import { errors, page, staffErrors, staffSecurity } from '../../openapi.js'
import { consoleContext } from '../../pages/console/frame.js'
import { languageOf } from '../../pages/context.js'
import { keysPage, staffPage } from '../../pages/console/staff.js'
import { csrfFor } from './subscribers.js'

const owner = { staffRole: 'owner' as const }
const idParams = z.object({ id: z.coerce.number({ error: keyed('console.api.fieldNumber', { field: 'id' }) }).int().positive().max(2 ** 31 - 1) })
const roleField = z.enum(STAFF_ROLES, { error: keyed('console.api.fieldOneOf', { field: 'role', values: STAFF_ROLES.join(', ') }) })
// An HTML checkbox: present ("on") when ticked, absent when not.
const mailField = z.union([z.literal('on'), z.literal('true'), z.literal('false'), z.boolean()], { error: keyed('console.api.fieldOneOf', { field: 'mail', values: 'on' }) })
  .optional().transform((v) => v === 'on' || v === 'true' || v === true)
const keyInput = z.object({
  name: z.string().trim().min(1, 'console.api.keyName').max(100, keyed('console.api.fieldAtMostChars', { field: 'name', max: 100 })),
  role: roleField,
  days: z.union([z.literal(''), z.coerce.number({ error: keyed('console.api.fieldNumber', { field: 'days' }) }).int().min(1, keyed('console.api.fieldAtLeast', { field: 'days', min: 1 })).max(3650, keyed('console.api.fieldAtMost', { field: 'days', max: 3650 }))]).optional(),
  _csrf: z.string().optional()
})
const keyBody = z.object({ id: z.number(), name: z.string(), role: z.string(), prefix: z.string(), createdBy: z.string(), createdAt: z.string(), expiresAt: z.string().nullable(), lastUsedAt: z.string().nullable(), revokedAt: z.string().nullable() })

export default async function staffRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  const audit = (request: FastifyRequest, action: string, target: string, details?: Record<string, unknown>) =>
    recordAudit(app.database, { actor: request.staff!.actor, action, target, ip: request.ip, details }, app.now())
  const linkOf = (token: string) => `${app.config.publicUrl}/admin/password/${token}`
  // A link to mail goes out through the outbox in the owner's language; the page still shows it once.
  const newLink = async (request: FastifyRequest, staffId: number, mail: boolean) => {
    const token = await issuePasswordLink(app.database, staffId, app.now(),
      mail ? { messageIdDomain: app.mailSettings.fromDomain, language: languageOf(request) } : undefined)
    if (mail) app.outbox.kick()
    return token
  }

  app.get('/staff', { config: owner, schema: { tags: ['staff'], summary: 'Staff accounts', security: staffSecurity, response: { 200: page('Accounts and the invite form'), ...staffErrors } } }, async (request, reply) => {
    return sendHtml(reply.header('cache-control', 'no-store'), 200, staffPage(consoleContext(request, csrfFor(request, reply)), await listStaff(app.database)))
  })

  app.post('/staff', {
    config: owner,
    schema: { tags: ['staff'], summary: 'Invite: a new account and its one-time password link', security: staffSecurity, body: z.object({ email: z.string().max(320).default(''), role: roleField, mail: mailField, _csrf: z.string().optional() }), response: { 201: page('The link, shown once'), 400: page('The form again'), ...staffErrors } }
  }, async (request, reply) => {
    const added = await addStaff(app.database, request.body.email, request.body.role, request.staff!.actor, app.now())
    const c = consoleContext(request, csrfFor(request, reply))
    if (!added.ok) return sendHtml(reply.code(400), 400, staffPage(c, await listStaff(app.database), undefined, inLanguage(c.page.m, added.said)))
    const token = await newLink(request, added.account.id, request.body.mail)
    await audit(request, 'staff-add', added.account.email, { role: added.account.role, mailed: request.body.mail })
    return sendHtml(reply.header('cache-control', 'no-store'), 201, staffPage(c, await listStaff(app.database), { email: added.account.email, link: linkOf(token), mailed: request.body.mail }))
  })

  app.post('/staff/:id/role', { config: owner, schema: { tags: ['staff'], summary: 'Change a role', security: staffSecurity, params: idParams, body: z.object({ role: roleField, _csrf: z.string().optional() }), response: { 303: z.null(), 400: errors[400], 404: errors[404], ...staffErrors } } }, async (request, reply) => {
    const account = await getStaff(app.database, request.params.id)
    if (!account || !(await setStaffRole(app.database, account.id, request.body.role))) throw new ClientError(404, 'not_found', { key: 'console.api.noStaffAccount' })
    await audit(request, 'staff-role', account.email, { from: account.role, to: request.body.role })
    return reply.code(303).redirect('/admin/staff')
  })

  for (const change of ['disable', 'enable'] as const) {
    app.post(`/staff/:id/${change}`, { config: owner, schema: { tags: ['staff'], summary: `${change === 'disable' ? 'Disable an account (its sessions end at once)' : 'Enable an account again'}`, security: staffSecurity, params: idParams, body: z.object({ _csrf: z.string().optional() }).optional(), response: { 303: z.null(), 400: errors[400], 404: errors[404], ...staffErrors } } }, async (request, reply) => {
      const account = await getStaff(app.database, request.params.id)
      if (!account || !(await setStaffDisabled(app.database, account.id, change === 'disable', app.now()))) throw new ClientError(404, 'not_found', { key: 'console.api.noStaffAccount' })
      await audit(request, `staff-${change}`, account.email)
      return reply.code(303).redirect('/admin/staff')
    })
  }

  app.post('/staff/:id/link', { config: owner, schema: { tags: ['staff'], summary: 'A new one-time password link (the old one stops working); `mail=on` also mails it', security: staffSecurity, params: idParams, body: z.object({ mail: mailField, _csrf: z.string().optional() }).default({ mail: false }), response: { 200: page('The link, shown once'), 400: errors[400], 404: errors[404], ...staffErrors } } }, async (request, reply) => {
    const account = await getStaff(app.database, request.params.id)
    if (!account || account.disabled) throw new ClientError(404, 'not_found', { key: 'console.api.noEnabledStaffAccount' })
    const token = await newLink(request, account.id, request.body.mail)
    await audit(request, 'staff-link', account.email, { mailed: request.body.mail })
    return sendHtml(reply.header('cache-control', 'no-store'), 200, staffPage(consoleContext(request, csrfFor(request, reply)), await listStaff(app.database), { email: account.email, link: linkOf(token), mailed: request.body.mail }))
  })

  app.get('/keys', { config: owner, schema: { tags: ['staff'], summary: 'API keys', security: staffSecurity, response: { 200: page('Keys and the create form'), ...staffErrors } } }, async (request, reply) => {
    return sendHtml(reply.header('cache-control', 'no-store'), 200, keysPage(consoleContext(request, csrfFor(request, reply)), await listApiKeys(app.database)))
  })

  const create = async (request: FastifyRequest, input: z.output<typeof keyInput>) => {
    const expiresAt = typeof input.days === 'number' ? new Date(app.now().getTime() + input.days * 86_400_000) : undefined
    const created = await createApiKey(app.database, { name: input.name, role: input.role, expiresAt, createdBy: request.staff!.actor }, app.now())
    await audit(request, 'key-create', created.key.name, { role: created.key.role, id: created.key.id })
    return created
  }

  app.post('/keys', { config: owner, schema: { tags: ['staff'], summary: 'Create a key (form); the key is shown once', security: staffSecurity, body: keyInput, response: { 201: page('The key, shown once'), 400: errors[400], ...staffErrors } } }, async (request, reply) => {
    const created = await create(request, request.body)
    return sendHtml(reply.header('cache-control', 'no-store'), 201, keysPage(consoleContext(request, csrfFor(request, reply)), await listApiKeys(app.database), { name: created.key.name, secret: created.secret }))
  })

  app.post('/keys/:id/revoke', { config: owner, schema: { tags: ['staff'], summary: 'Revoke a key (form); it stops working at once', security: staffSecurity, params: idParams, body: z.object({ _csrf: z.string().optional() }).optional(), response: { 303: z.null(), 400: errors[400], 404: errors[404], ...staffErrors } } }, async (request, reply) => {
    const key = await revokeApiKey(app.database, request.params.id, app.now())
    if (!key) throw new ClientError(404, 'not_found', { key: 'console.api.noKey' })
    await audit(request, 'key-revoke', key.name, { id: key.id })
    return reply.code(303).redirect('/admin/keys')
  })

  // The same for scripts, as JSON.
  app.get('/api/keys', { config: owner, schema: { tags: ['staff'], summary: 'List API keys (never the keys themselves)', security: staffSecurity, response: { 200: z.object({ keys: z.array(keyBody) }), ...staffErrors } } }, async () => {
    return { keys: await listApiKeys(app.database) }
  })
  app.post('/api/keys', { config: owner, schema: { tags: ['staff'], summary: 'Create an API key: {name, role, days?}; `key` is shown once', security: staffSecurity, body: keyInput, response: { 201: keyBody.extend({ key: z.string() }), 400: errors[400], ...staffErrors } } }, async (request, reply) => {
    const created = await create(request, request.body)
    return reply.code(201).header('cache-control', 'no-store').send({ ...created.key, key: created.secret })
  })
  app.delete('/api/keys/:id', { config: owner, schema: { tags: ['staff'], summary: 'Revoke an API key', security: staffSecurity, params: idParams, response: { 200: keyBody, 400: errors[400], 404: errors[404], ...staffErrors } } }, async (request) => {
    const key = await revokeApiKey(app.database, request.params.id, app.now())
    if (!key) throw new ClientError(404, 'not_found', { key: 'console.api.noKey' })
    await audit(request, 'key-revoke', key.name, { id: key.id })
    return key
  })
}
