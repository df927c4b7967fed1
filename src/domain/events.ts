// Events for webhooks and the changes feed: each is one INSERT that a change adds to its own statement as a
// data-modifying CTE, so the event commits with the change or not at all (a transactional outbox, like the mail's).
// The dispatcher (src/webhooks/dispatch.ts) then puts committed events in one order and fans them out.
import { sql, type SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { isoText } from '../db/sql.js'

export const EVENT_TYPES = [
  'subscription.pending', 'subscription.confirmed', 'subscription.unsubscribed', 'subscriber.erased',
  'list.created', 'list.archived'
] as const
export type EventType = typeof EVENT_TYPES[number]
export type SubscriptionEventType = Extract<EventType, `subscription.${string}`>

const STATUS_OF: Record<SubscriptionEventType, string> = {
  'subscription.pending': 'pending',
  'subscription.confirmed': 'confirmed',
  'subscription.unsubscribed': 'unsubscribed'
}

/** The consent evidence of a subscription `p` (its subscriber `s`, its consent text `ct`), without empty fields. */
const SIGNUP_EVIDENCE = `'signedUpAt', ${isoText('p.signed_up_at')}, 'ip', host(p.signup_ip), 'userAgent', p.signup_user_agent,
  'source', s.source, 'consentTextVersion', p.consent_text_version, 'consentText', ct.text`
const CONFIRM_EVIDENCE = `'confirmedAt', ${isoText('p.confirmed_at')}, 'confirmIp', host(p.confirm_ip),
  'confirmUserAgent', p.confirm_user_agent`

/**
 * The INSERT recording one event per subscription in `from` (a CTE returning whole subscription rows, `RETURNING
 * p.*`), about its subscriber in `subscribers` (the table, or a CTE of the same statement returning `s.*` when the
 * subscriber row is new) and its list. `at` and `listName` (the LIST_NAME setting, for a list without a name of its
 * own) are SQL: bound parameters, or placeholders of a constant statement text. Names are constant text, never input.
 */
function subscriptionInsert (type: SubscriptionEventType, from: string, subscribers: string, at: SQL, listName: SQL): SQL {
  const evidence = type === 'subscription.pending'
    ? `jsonb_strip_nulls(jsonb_build_object(${SIGNUP_EVIDENCE}))`
    : type === 'subscription.confirmed'
      ? `jsonb_strip_nulls(jsonb_build_object(${SIGNUP_EVIDENCE}, ${CONFIRM_EVIDENCE}))`
      : `jsonb_strip_nulls(jsonb_build_object('unsubscribedAt', ${isoText('p.unsubscribed_at')}, 'method', p.unsubscribe_method))`
  const key = type === 'subscription.unsubscribed' ? 'unsubscribe' : 'consent'
  return sql`
    INSERT INTO webhook_events (type, order_key, subscriber_id, list_slug, occurred_at, data)
    SELECT ${sql.raw(`'${type}'`)}, s.public_id::text, s.id, l.slug, ${at},
      jsonb_build_object(
        'subscriber', jsonb_build_object('id', s.public_id, 'email', s.email, 'name', s.name),
        'list', jsonb_build_object('slug', l.slug, 'name', coalesce(l.name, ${listName})),
        'status', ${sql.raw(`'${STATUS_OF[type]}'`)},
        ${sql.raw(`'${key}', ${evidence}`)})
    FROM ${sql.raw(from)} p JOIN ${sql.raw(subscribers)} s ON s.id = p.subscriber_id JOIN lists l ON l.id = p.list_id
    LEFT JOIN consent_texts ct ON ct.version = p.consent_text_version`
}

/** The INSERT, for a CTE of a drizzle statement: one event per subscription row of `from` (see subscriptionInsert). */
export function subscriptionEvents (type: SubscriptionEventType, from: string, listName: string, at: string,
  subscribers = 'subscribers'): SQL {
  return subscriptionInsert(type, from, subscribers, sql`${at}::timestamptz`, sql`${listName}::text`)
}

const dialect = new PgDialect()

/**
 * The same INSERT as constant statement text, for statements prepared once (the sign-up batch): the values are
 * placeholders of that statement, e.g. `{ at: '$2::timestamptz', listName: '$10::text' }`.
 */
export function subscriptionEventsText (type: SubscriptionEventType, from: string, subscribers: string,
  placeholders: { at: string, listName: string }): string {
  return dialect.sqlToQuery(subscriptionInsert(type, from, subscribers, sql.raw(placeholders.at), sql.raw(placeholders.listName))).sql
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

/**
 * The INSERT recording `list.created` or `list.archived` for each list row of `from` (a CTE returning `id, slug,
 * name`), for a CTE of the statement that changes the list. `listName`: LIST_NAME, for a list without its own name.
 */
export function listEvents (type: 'list.created' | 'list.archived', from: string, listName: string, at: string): SQL {
  return sql`
    INSERT INTO webhook_events (type, order_key, list_slug, occurred_at, data)
    SELECT ${type}, 'list:' || x.slug, x.slug, ${at}::timestamptz,
      jsonb_build_object('list', jsonb_build_object('slug', x.slug, 'name', coalesce(x.name, ${listName}::text)))
    FROM ${sql.raw(from)} x`
}
