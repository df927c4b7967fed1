// Webhook endpoints as owners manage them: create (the secret is shown once), change, delete, rotate the secret
// with an overlap, and the delivery log with its retry. Plain functions over the database, no HTTP.
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import { isoSql } from '../db/sql.js'
import type { EventType } from '../domain/events.js'
import { eventId } from './dispatch.js'
import { newSecret } from './signing.js'

export interface Endpoint {
  id: string
  url: string
  description: string | null
  eventTypes: EventType[]
  list: string | null
  enabled: boolean
  disabledReason: string | null
  /** Until when the previous secret still signs, after a rotation. */
  previousSecretExpiresAt: string | null
  createdAt: string
  updatedAt: string
}

export interface EndpointInput {
  url: string
  eventTypes: EventType[]
  list?: string | null
  enabled?: boolean
  description?: string | null
}

const ENDPOINT_COLUMNS = sql`public_id AS id, url, description, to_jsonb(event_types) AS "eventTypes", list_slug AS list, enabled,
  disabled_reason AS "disabledReason",
  CASE WHEN previous_secret_expires_at > now() THEN ${isoSql('previous_secret_expires_at')} END AS "previousSecretExpiresAt",
  ${isoSql('created_at')} AS "createdAt", ${isoSql('updated_at')} AS "updatedAt"`

/** A public id as PostgreSQL's uuid takes it; anything else matches no endpoint (instead of a cast error). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const idOf = (id: string): string => UUID.test(id) ? id : '00000000-0000-0000-0000-000000000000'

export async function createEndpoint (database: Database, input: EndpointInput, now: Date): Promise<{ endpoint: Endpoint, secret: string }> {
  const secret = newSecret()
  const at = now.toISOString()
  const [endpoint] = await database.rows<Endpoint>(sql`
    INSERT INTO webhook_endpoints (url, description, event_types, list_slug, enabled, secret, created_at, updated_at)
    VALUES (${input.url}, ${input.description ?? null}, string_to_array(${input.eventTypes.join(',')}, ','),
      ${input.list ?? null}, ${input.enabled ?? true}, ${secret}, ${at}, ${at})
    RETURNING ${ENDPOINT_COLUMNS}`)
  return { endpoint, secret }
}

export async function listEndpoints (database: Database): Promise<Endpoint[]> {
  return await database.rows<Endpoint>(sql`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY id`)
}

export async function getEndpoint (database: Database, id: string): Promise<Endpoint | undefined> {
  const [endpoint] = await database.rows<Endpoint>(sql`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE public_id = ${idOf(id)}`)
  return endpoint
}

/** Changes what is given; turning an endpoint back on clears why it was turned off. */
export async function updateEndpoint (database: Database, id: string, patch: Partial<EndpointInput>, now: Date): Promise<Endpoint | undefined> {
  const sets = [sql`updated_at = ${now.toISOString()}`]
  if (patch.url !== undefined) sets.push(sql`url = ${patch.url}`)
  if (patch.description !== undefined) sets.push(sql`description = ${patch.description}`)
  if (patch.eventTypes !== undefined) sets.push(sql`event_types = string_to_array(${patch.eventTypes.join(',')}, ',')`)
  if (patch.list !== undefined) sets.push(sql`list_slug = ${patch.list}`)
  if (patch.enabled !== undefined) sets.push(sql`enabled = ${patch.enabled}`, sql`disabled_reason = NULL`)
  // A turned-off endpoint's deliveries are parked (due at infinity), so claims never look at them; turned on, due now.
  const parked = patch.enabled === undefined
    ? sql`SELECT 1`
    : sql`
    UPDATE webhook_deliveries d SET next_attempt_at = ${patch.enabled ? now.toISOString() : 'infinity'}
    FROM changed c WHERE d.endpoint_id = c.id AND d.status = 'pending'`
  const [endpoint] = await database.rows<Endpoint>(sql`
    WITH changed AS (
      UPDATE webhook_endpoints SET ${sql.join(sets, sql`, `)} WHERE public_id = ${idOf(id)} RETURNING *
    ), parked AS (${parked})
    SELECT ${ENDPOINT_COLUMNS} FROM changed`)
  return endpoint
}

/** Deletes an endpoint with its deliveries (its log included). */
export async function deleteEndpoint (database: Database, id: string): Promise<boolean> {
  const rows = await database.rows(sql`DELETE FROM webhook_endpoints WHERE public_id = ${idOf(id)} RETURNING id`)
  return rows.length > 0
}

/**
 * A new secret, shown once. The old one keeps signing alongside it for `overlapHours` (both signatures in one
 * header, as Standard Webhooks allows), so the receiver can switch over without losing a delivery.
 */
export async function rotateSecret (database: Database, id: string, overlapHours: number, now: Date): Promise<{ endpoint: Endpoint, secret: string } | undefined> {
  const secret = newSecret()
  const until = new Date(now.getTime() + overlapHours * 3_600_000).toISOString()
  const [endpoint] = await database.rows<Endpoint>(sql`
    UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = ${until}, secret = ${secret},
      updated_at = ${now.toISOString()}
    WHERE public_id = ${idOf(id)} RETURNING ${ENDPOINT_COLUMNS}`)
  return endpoint && { endpoint, secret }
}

export interface Delivery {
  id: number
  eventId: string
  type: string
  status: 'waiting' | 'pending' | 'sending' | 'delivered' | 'dead'
  attempts: number
  lastStatusCode: number | null
  lastError: string | null
  lastResponse: string | null
  nextAttemptAt: string | null
  createdAt: string
  updatedAt: string
}

/** The endpoint's deliveries, newest first (kept WEBHOOK_LOG_DAYS). */
export async function deliveryLog (database: Database, id: string, opts: { status?: Delivery['status'], limit: number, before?: number }): Promise<Delivery[]> {
  const rows = await database.rows<Delivery & { event_public_id: string }>(sql`
    SELECT d.id, e.public_id AS event_public_id, e.type, d.status::text AS status, d.attempts, d.last_status_code AS "lastStatusCode",
      d.last_error AS "lastError", d.last_response AS "lastResponse",
      CASE WHEN d.status IN ('pending', 'sending') AND d.next_attempt_at <> 'infinity' THEN ${isoSql('d.next_attempt_at')} END AS "nextAttemptAt",
      ${isoSql('d.created_at')} AS "createdAt", ${isoSql('d.updated_at')} AS "updatedAt"
    FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id JOIN webhook_events e ON e.id = d.event_id
    WHERE w.public_id = ${idOf(id)} ${opts.status ? sql`AND d.status = ${opts.status}` : sql``}
      ${opts.before ? sql`AND d.id < ${opts.before}` : sql``}
    ORDER BY d.id DESC LIMIT ${opts.limit}`)
  return rows.map(({ event_public_id: publicId, ...d }) => ({ ...d, id: Number(d.id), attempts: Number(d.attempts), eventId: eventId(publicId) }))
}

/** Puts dead deliveries of an endpoint back in the queue, due now with a fresh attempt budget: one, or all. */
export async function retryDeliveries (database: Database, endpointId: string, now: Date, deliveryId?: number): Promise<number> {
  const at = now.toISOString()
  const rows = await database.rows(sql`
    UPDATE webhook_deliveries d SET status = 'pending', attempts = 0, next_attempt_at = ${at}, updated_at = ${at}
    FROM webhook_endpoints w
    WHERE w.id = d.endpoint_id AND w.public_id = ${idOf(endpointId)} AND d.status = 'dead'
      ${deliveryId === undefined ? sql`` : sql`AND d.id = ${deliveryId}`}
    RETURNING d.id`)
  return rows.length
}

/**
 * Retention of the delivery log and the feed: finished deliveries and events older than `days` go; an event
 * with a delivery still in the log stays.
 */
export async function purgeWebhookLog (database: Database, now: Date, days: number): Promise<{ deliveries: number, events: number }> {
  const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString()
  const [row] = await database.rows<{ deliveries: number, events: number }>(sql`
    WITH deliveries AS (
      DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'dead') AND updated_at < ${cutoff} RETURNING id
    ), events AS (
      DELETE FROM webhook_events e WHERE e.occurred_at < ${cutoff} AND e.seq IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id
          AND NOT (d.status IN ('delivered', 'dead') AND d.updated_at < ${cutoff}))
      RETURNING id
    )
    SELECT (SELECT count(*) FROM deliveries)::int AS deliveries, (SELECT count(*) FROM events)::int AS events`)
  return { deliveries: Number(row.deliveries), events: Number(row.events) }
}
