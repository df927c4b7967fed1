// The numbers on the staff dashboard: subscribers by status, sign-ups per day, confirmation rate, outbox health.
// Each is one aggregate query over indexed columns; nothing here returns an address.
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'

export interface DayStats { day: string, signups: number, confirmed: number, pending: number }

export interface DashboardStats {
  byStatus: { confirmed: number, pending: number, unsubscribed: number }
  /** Oldest first, one entry for every UTC day of the window (zeros included). */
  days: DayStats[]
  outbox: { backlog: number, dead: number, sent: number }
}

export const DASHBOARD_DAYS = 90

export async function dashboardStats (database: Database, now: Date, days = DASHBOARD_DAYS): Promise<DashboardStats> {
  const today = now.toISOString().slice(0, 10)
  const [statusRows, dayRows, outboxRows] = await Promise.all([
    database.rows<{ status: string, n: number }>(sql`
      SELECT status::text AS status, count(*)::int AS n FROM subscribers GROUP BY status`),
    // A sign-up counts on the UTC day of its latest signed_up_at; "confirmed" = it has confirmed since (even if it
    // left later), "pending" = it still has not.
    database.rows<{ day: string, signups: number, confirmed: number, pending: number }>(sql`
      WITH span AS (
        SELECT generate_series(${today}::date - ${days - 1}::int, ${today}::date, interval '1 day')::date AS day
      ), counted AS (
        SELECT (signed_up_at AT TIME ZONE 'UTC')::date AS day, count(*)::int AS signups,
          (count(*) FILTER (WHERE confirmed_at IS NOT NULL))::int AS confirmed,
          (count(*) FILTER (WHERE status = 'pending'))::int AS pending
        FROM subscribers
        WHERE signed_up_at >= (${today}::date - ${days - 1}::int)::timestamp AT TIME ZONE 'UTC'
        GROUP BY 1
      )
      SELECT to_char(span.day, 'YYYY-MM-DD') AS day, coalesce(c.signups, 0)::int AS signups,
        coalesce(c.confirmed, 0)::int AS confirmed, coalesce(c.pending, 0)::int AS pending
      FROM span LEFT JOIN counted c USING (day) ORDER BY span.day`),
    database.rows<{ status: string, n: number }>(sql`
      SELECT status::text AS status, count(*)::int AS n FROM outbox GROUP BY status`)
  ])
  const count = (rows: { status: string, n: number }[], ...statuses: string[]) =>
    rows.filter((r) => statuses.includes(r.status)).reduce((sum, r) => sum + Number(r.n), 0)
  return {
    byStatus: {
      confirmed: count(statusRows, 'confirmed'),
      pending: count(statusRows, 'pending'),
      unsubscribed: count(statusRows, 'unsubscribed')
    },
    days: dayRows.map((r) => ({ day: r.day, signups: Number(r.signups), confirmed: Number(r.confirmed), pending: Number(r.pending) })),
    outbox: { backlog: count(outboxRows, 'pending', 'sending'), dead: count(outboxRows, 'dead'), sent: count(outboxRows, 'sent') }
  }
}
