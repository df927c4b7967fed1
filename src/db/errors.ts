// Telling database errors apart: a lost connection means "unavailable, try again" (503), not a bug (500). Driver
// errors are unwrapped before logging: drizzle's DrizzleQueryError carries the query's parameters, which hold
// addresses and raw confirmation tokens that logs must never contain (OWASP Logging Cheat Sheet).
import { DrizzleQueryError } from 'drizzle-orm/errors'

// postgres.js and Node socket errors, our query deadline (src/db/client.ts), and PostgreSQL's query_canceled
// (statement_timeout, src/db/client.ts) / admin_shutdown / crash_shutdown / cannot_connect_now, and
// too_many_connections (max_connections reached: an export opens a connection of its own).
const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED',
  'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'EPIPE', 'QUERY_TIMEOUT', '57014', '57P01', '57P02', '57P03', '53300'])

/** The driver's own error inside drizzle's wrapper (whose message and fields repeat the query parameters). */
export function driverError (err: unknown): unknown {
  return err instanceof DrizzleQueryError && err.cause ? err.cause : err
}

/** Whether this error means the database cannot be reached right now (as opposed to a bad query). */
export function isDatabaseUnavailable (err: unknown): boolean {
  const e = driverError(err) as { code?: unknown, errno?: unknown } | null
  return !!e && (UNAVAILABLE.has(String(e.code)) || UNAVAILABLE.has(String(e.errno)))
}
