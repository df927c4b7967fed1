// One process at a time on the embedded database. PGlite runs PostgreSQL inside the process: two processes that
// open DATA_DIR/pgdata each work on their own copy in memory, and whichever writes its files last wins (a CLI
// erasure run beside the server reported "erased" while the server kept the data). A lock next to the data,
// taken on open and released on close, makes the second process stop instead.
import lockfile from 'proper-lockfile'

/** The embedded database is held by another process (most likely the running server). */
export class DatabaseInUseError extends Error {
  readonly code = 'EDATABASEINUSE'
}

// The holder refreshes its lock every UPDATE_MS; one not refreshed for STALE_MS belongs to a process that died
// (kill -9, a power cut) and is taken over, so a crash never blocks the data for long. The margin allows for an
// event loop held up by a long PGlite query (it runs on the main thread).
const STALE_MS = 30_000
const UPDATE_MS = 5_000

/**
 * Locks the embedded database directory (as `<dataPath>.lock`, proper-lockfile's atomic mkdir). Resolves to a
 * release function that may be called more than once; rejects with DatabaseInUseError if another process holds it.
 */
export async function lockEmbeddedDatabase (dataPath: string): Promise<() => Promise<void>> {
  let release: (() => Promise<void>) | undefined
  try {
    release = await lockfile.lock(dataPath, { stale: STALE_MS, update: UPDATE_MS })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err
    throw new DatabaseInUseError(`The embedded database in ${dataPath} is in use by another process (a running ` +
      'Joinlist server?): it can be opened by one process at a time. If that process has crashed, its lock expires ' +
      `within ${STALE_MS / 1000} seconds.`)
  }
  return async () => {
    const once = release
    release = undefined
    await once?.()
  }
}
