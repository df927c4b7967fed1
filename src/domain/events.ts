// Events for webhooks and the changes feed: each is one INSERT that a change adds to its own statement as a
// data-modifying CTE, so the event commits with the change or not at all (a transactional outbox, like the mail's).
// The dispatcher (src/webhooks/dispatch.ts) then puts committed events in one order and fans them out.
import { sql, type SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import type { Database } from '../db/client.js'
import { isoText } from '../db/sql.js'

export const EVENT_TYPES = [
  'subscription.pending', 'subscription.confirmed', 'subscription.unsubscribed', 'subscriber.erased',
  'list.created', 'list.archived'
] as const
export type EventType = typeof EVENT_TYPES[number]
export type SubscriptionEventType = Extract<EventType, `subscription.${string}`>

/** The list an event is about, as receivers see it. */
export interface ListRef { slug: string, name: string }

/** The one list there is until lists have rows of their own: slug `main`, named by LIST_NAME. */
export const mainList = (name: string): ListRef => ({ slug: 'main', name })

/** The values an event INSERT needs, as SQL: bound parameters, or placeholders of a constant statement text. */
interface EventValues { at: SQL, listSlug: SQL, listName: SQL }

const STATUS_OF: Record<SubscriptionEventType, string> = {
  'subscription.pending': 'pending',
  'subscription.confirmed': 'confirmed',
  'subscription.unsubscribed': 'unsubscribed'
}

/** The consent evidence of a subscriber row `s` (and its consent text `ct`), without empty fields. */
const SIGNUP_EVIDENCE = `'signedUpAt', ${isoText('s.signed_up_at')}, 'ip', host(s.signup_ip), 'userAgent', s.signup_user_agent,
  'source', s.source, 'consentTextVersion', s.consent_text_version, 'consentText', ct.text`
const CONFIRM_EVIDENCE = `'confirmedAt', ${isoText('s.confirmed_at')}, 'confirmIp', host(s.confirm_ip),
  'confirmUserAgent', s.confirm_user_agent`

function subscriptionInsert (type: SubscriptionEventType, from: string, v: EventValues): SQL {
  const evidence = type === 'subscription.pending'
    ? `jsonb_strip_nulls(jsonb_build_object(${SIGNUP_EVIDENCE}))`
    : type === 'subscription.confirmed'
      ? `jsonb_strip_nulls(jsonb_build_object(${SIGNUP_EVIDENCE}, ${CONFIRM_EVIDENCE}))`
      : `jsonb_strip_nulls(jsonb_build_object('unsubscribedAt', ${isoText('s.unsubscribed_at')}, 'method', s.unsubscribe_method))`
  const key = type === 'subscription.unsubscribed' ? 'unsubscribe' : 'consent'
  return sql`
    INSERT INTO webhook_events (type, order_key, subscriber_id, list_slug, occurred_at, data)
    SELECT ${sql.raw(`'${type}'`)}, s.public_id::text, s.id, ${v.listSlug}, ${v.at},
      jsonb_build_object(
        'subscriber', jsonb_build_object('id', s.public_id, 'email', s.email, 'name', s.name),
        'list', jsonb_build_object('slug', ${v.listSlug}, 'name', ${v.listName}),
        'status', ${sql.raw(`'${STATUS_OF[type]}'`)},
        ${sql.raw(`'${key}', ${evidence}`)})
    FROM ${sql.raw(from)} s LEFT JOIN consent_texts ct ON ct.version = s.consent_text_version`
}

/**
 * The INSERT, for a CTE of a drizzle statement, recording one event per row of `from`: the name of a CTE returning
 * whole subscriber rows (`RETURNING s.*`), or a parenthesised subquery over one (constant text, never input).
 */
export function subscriptionEvents (type: SubscriptionEventType, from: string, list: ListRef, at: string): SQL {
  return subscriptionInsert(type, from, { at: sql`${at}::timestamptz`, listSlug: sql`${list.slug}::text`, listName: sql`${list.name}::text` })
}

const dialect = new PgDialect()

/**
 * The same INSERT as constant statement text, for statements prepared once (the sign-up batch): the values are
 * placeholders of that statement, e.g. `{ at: '$2::timestamptz', listSlug: '$11::text', listName: '$8::text' }`.
 */
export function subscriptionEventsText (type: SubscriptionEventType, from: string, placeholders: { at: string, listSlug: string, listName: string }): string {
  const v = { at: sql.raw(placeholders.at), listSlug: sql.raw(placeholders.listSlug), listName: sql.raw(placeholders.listName) }
  return dialect.sqlToQuery(subscriptionInsert(type, from, v)).sql
}

/**
 * The INSERT recording `subscriber.erased` for each row of `from` (a CTE with `public_id`). It carries the
 * subscriber's public id and nothing else: the address is what is being erased. Their earlier events, which carry
 * it, go with the subscriber row (ON DELETE CASCADE), delivered or not.
 */
export function erasedEvents (from: string, at: string): SQL {
  return sql`
    INSERT INTO webhook_events (type, order_key, occurred_at, data)
    SELECT 'subscriber.erased', e.public_id::text, ${at}::timestamptz,
      jsonb_build_object('subscriber', jsonb_build_object('id', e.public_id))
    FROM ${sql.raw(from)} e`
}

/** The INSERT recording `list.created` or `list.archived`, for a CTE of the statement that changes the list. */
export function listEvent (type: 'list.created' | 'list.archived', list: ListRef, at: string): SQL {
  return sql`
    INSERT INTO webhook_events (type, order_key, list_slug, occurred_at, data)
    VALUES (${type}, ${`list:${list.slug}`}, ${list.slug}, ${at}::timestamptz,
      jsonb_build_object('list', jsonb_build_object('slug', ${list.slug}::text, 'name', ${list.name}::text)))`
}

/** Records a list event on its own (when the list change is not a single statement of ours). */
export async function recordListEvent (database: Database, type: 'list.created' | 'list.archived', list: ListRef, now: Date): Promise<void> {
  await database.rows(listEvent(type, list, now.toISOString()))
}
