// Staff management of lists: GET/POST /admin/api/lists, GET/PATCH /admin/api/lists/:slug. The same functions as the
// CLI's `lists` commands (src/domain/lists.ts). Reading needs the viewer role, changing the editor role.
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { SLUG_RULE, type List } from '../../domain/lists.js'
import { errorBody, errors, staffErrors, staffSecurity } from '../../openapi.js'
import { keyed } from '../../messages/index.js'
import { requestMessages } from '../../pages/context.js'

const counts = z.object({ pending: z.number(), confirmed: z.number(), unsubscribed: z.number() })
const listBody = z.object({
  slug: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  public: z.boolean(),
  isDefault: z.boolean(),
  consentTextVersion: z.number(),
  welcomeEmail: z.boolean(),
  createdAt: z.string(),
  archivedAt: z.string().nullable(),
  subscriptions: counts
}).describe('A list, with how many subscriptions it has in each state')

const slugParams = z.object({ slug: z.string().max(63) })
const text = (what: string, max: number) => z.string({ error: keyed('console.api.fieldText', { field: what }) }).max(max, keyed('console.api.fieldIsAtMostChars', { field: what, max }))
const flag = (what: string) => z.boolean({ error: keyed('console.api.fieldTrueFalse', { field: what }) })
const newList = z.object({
  slug: text('slug', 63).describe(SLUG_RULE),
  name: text('name', 100),
  description: text('description', 500).optional(),
  public: flag('public').optional().describe('Offered on the sign-up form (default true); hidden lists are filled by staff only'),
  isDefault: flag('isDefault').optional().describe('Joined by sign-ups that name no list'),
  consentText: text('consentText', 2000).optional().describe('The consent wording of this list (default: CONSENT_TEXT)'),
  welcomeEmail: flag('welcomeEmail').optional().describe('Send a welcome mail on confirming (default: WELCOME_EMAIL)')
}).strict()
const change = newList.omit({ slug: true }).partial().extend({
  description: text('description', 500).nullable().optional(),
  archived: flag('archived').optional().describe('true: closed to sign-ups and no longer offered; subscriptions are kept')
}).strict()

export default async function listRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  const withCounts = async (lists: List[]) => {
    const all = await app.lists.counts()
    return lists.map(({ id, ownConsentText, ...l }) => ({ ...l, subscriptions: all.get(id) ?? { pending: 0, confirmed: 0, unsubscribed: 0 } }))
  }

  app.get('/api/lists', {
    schema: {
      tags: ['staff', 'lists'],
      summary: 'All lists, archived ones too',
      security: staffSecurity,
      response: { 200: z.object({ lists: z.array(listBody) }), ...staffErrors }
    }
  }, async () => ({ lists: await withCounts(await app.lists.all()) }))

  app.get('/api/lists/:slug', {
    schema: {
      tags: ['staff', 'lists'],
      summary: 'One list',
      security: staffSecurity,
      params: slugParams,
      response: { 200: listBody, 404: errorBody('No such list'), ...staffErrors }
    }
  }, async (request, reply) => {
    const list = await app.lists.bySlug(request.params.slug)
    if (!list) return reply.code(404).send({ error: 'not_found', message: requestMessages(request).t('console.api.noList', { slug: request.params.slug }) })
    return (await withCounts([list]))[0]
  })

  app.post('/api/lists', {
    schema: {
      tags: ['staff', 'lists'],
      summary: 'Create a list',
      security: staffSecurity,
      body: newList,
      response: { 201: listBody, 400: errors[400], 409: errorBody('The slug is taken'), ...staffErrors }
    }
  }, async (request, reply) => {
    const list = await app.lists.create(request.body)
    return reply.code(201).send((await withCounts([list]))[0])
  })

  app.patch('/api/lists/:slug', {
    schema: {
      tags: ['staff', 'lists'],
      summary: 'Rename, describe, hide or show, make default, archive or reopen a list',
      description: 'A change that would leave no public, open default list is refused with 409.',
      security: staffSecurity,
      params: slugParams,
      body: change,
      response: { 200: listBody, 400: errors[400], 404: errorBody('No such list'), 409: errorBody('The change would leave sign-ups without a default list'), ...staffErrors }
    }
  }, async (request) => (await withCounts([await app.lists.update(request.params.slug, request.body)]))[0])
}
