// The dispatcher puts committed events in one order (their `seq`) and fans them out to the endpoints that want
// them; the changes feed reads that order. One dispatcher at a time (an advisory lock held to its commit), so seqs
// commit in increasing order: a reader that has seen seq n will never later find an event below n. Event ids alone
// could not promise that: a bigserial is taken at insert, and a transaction that inserted earlier can commit later.
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import { isoSql } from '../db/sql.js'
import type { EventType } from '../domain/events.js'

// An arbitrary constant shared by every instance, like the migration and purge locks.
const DISPATCH_LOCK_ID = 727_274_011

export interface DispatchResult { sequenced: number, deliveries: number }

/**
 * Makes the next waiting delivery of each (endpoint, order key) in `finished` (a CTE of the same statement with
 * those two columns) pending: the one behind a delivery that was just delivered or became dead.
 */
export const promoteNext = (finished: string, at: string) => sql`
  UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ${at}, updated_at = ${at}
  WHERE id IN (
    SELECT DISTINCT ON (w.endpoint_id, w.order_key) w.id
    FROM webhook_deliveries w JOIN ${sql.raw(finished)} f ON f.endpoint_id = w.endpoint_id AND f.order_key = w.order_key
    WHERE w.status = 'waiting' ORDER BY w.endpoint_id, w.order_key, w.seq)`

/**
 * The same for every chain whose head is gone: a delivery finished while the dispatcher was adding one behind it
 * (each statement saw the other's old state), or a head deleted with an erased subscriber. Rare, so it runs now and
 * then rather than on every pass.
 */
export async function repairChains (database: Database, now: Date): Promise<number> {
  const at = now.toISOString()
  const rows = await database.rows(sql`
    UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ${at}, updated_at = ${at}
    WHERE id IN (
      SELECT DISTINCT ON (d.endpoint_id, d.order_key) d.id FROM webhook_deliveries d
      WHERE d.status = 'waiting' AND NOT EXISTS (
        SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id AND p.order_key = d.order_key
          AND p.status IN ('pending', 'sending'))
      ORDER BY d.endpoint_id, d.order_key, d.seq)
    RETURNING id`)
  return rows.length
}

/**
 * Orders up to `limit` committed events and queues their deliveries, in one statement. Returns zeros when another
 * dispatcher holds the lock (it is doing the same work).
 *
 * Within a subscriber, event ids already follow commit order: each change locks the subscriber row before its
 * event takes an id, and holds the lock to its commit. So taking the visible unordered events by id keeps each
 * subscriber's events in order. A dispatcher whose snapshot predates another's commit re-checks each row it locks
 * (FOR UPDATE under READ COMMITTED) and skips those already ordered.
 */
export async function dispatchEvents (database: Database, now: Date, limit = 1000): Promise<DispatchResult> {
  const at = now.toISOString()
  const [row] = await database.rows<{ sequenced: number, deliveries: number }>(sql`
    WITH lock AS MATERIALIZED (
      SELECT pg_try_advisory_xact_lock(${DISPATCH_LOCK_ID}) AS got
    ), next AS (
      SELECT id FROM webhook_events WHERE seq IS NULL AND (SELECT got FROM lock)
      ORDER BY id LIMIT ${limit} FOR UPDATE
    ), numbered AS MATERIALIZED (
      SELECT id, nextval('webhook_event_seq') AS seq FROM (SELECT id FROM next ORDER BY id) n
    ), ordered AS (
      UPDATE webhook_events e SET seq = n.seq FROM numbered n WHERE e.id = n.id
      RETURNING e.id, e.seq, e.type, e.order_key, e.list_slug
    ), targets AS (
      SELECT w.id AS endpoint_id, o.id AS event_id, o.seq, o.order_key,
        row_number() OVER (PARTITION BY w.id, o.order_key ORDER BY o.seq) AS nth
      FROM ordered o JOIN webhook_endpoints w ON w.enabled AND o.type = ANY (w.event_types)
        AND (w.list_slug IS NULL OR o.list_slug IS NULL OR w.list_slug = o.list_slug)
    ), fanned AS (
      -- Only the first of a subscriber's deliveries to an endpoint is pending; the others wait behind it.
      INSERT INTO webhook_deliveries (endpoint_id, event_id, seq, order_key, status, next_attempt_at, created_at, updated_at)
      SELECT t.endpoint_id, t.event_id, t.seq, t.order_key,
        CASE WHEN t.nth = 1 AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = t.endpoint_id AND p.order_key = t.order_key
            AND p.status IN ('waiting', 'pending', 'sending')) THEN 'pending' ELSE 'waiting' END::webhook_delivery_status,
        ${at}, ${at}, ${at}
      FROM targets t
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM ordered)::int AS sequenced, (SELECT count(*) FROM fanned)::int AS deliveries`)
  return { sequenced: Number(row.sequenced), deliveries: Number(row.deliveries) }
}

export interface Change {
  /** The event's id: the `webhook-id` of its deliveries too, so a tool that reads both can tell repeats. */
  id: string
  /** Pass as `after` to read on from here. */
  cursor: string
  type: EventType
  timestamp: string
  data: Record<string, unknown>
}

/**
 * The events after `after` in commit order (see above), ordering what has committed since first. That write is
 * the dispatcher's bookkeeping (the worker would do the same on its next pass), so a feed read stays current on an
 * instance with WORKER=false; it changes no subscriber, and repeating it changes nothing more.
 */
export async function readChanges (database: Database, now: Date, after: number, limit: number): Promise<{ changes: Change[], cursor: string }> {
  await dispatchEvents(database, now)
  const rows = await database.rows<{ seq: string, public_id: string, type: EventType, at: string, data: Record<string, unknown> }>(sql`
    SELECT seq::text AS seq, public_id, type, ${isoSql('occurred_at')} AS at, data FROM webhook_events
    WHERE seq > ${after} ORDER BY seq LIMIT ${limit}`)
  const changes = rows.map((r) => ({ id: eventId(r.public_id), cursor: r.seq, type: r.type, timestamp: r.at, data: r.data }))
  return { changes, cursor: changes.at(-1)?.cursor ?? String(after) }
}

/** The id receivers see for an event. */
export const eventId = (publicId: string): string => `evt_${publicId.replaceAll('-', '')}`
