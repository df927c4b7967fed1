// SQL fragments more than one query needs.
import { sql, type SQL } from 'drizzle-orm'

/** ISO 8601 UTC with milliseconds, as text: the export writes times this way, and drivers disagree on timestamp types. */
export const isoText = (expression: string): string =>
  `to_char(${expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

/** The same for a drizzle query, over a column name or expression of our own (never user input). */
export const isoSql = (expression: string): SQL => sql.raw(isoText(expression))
