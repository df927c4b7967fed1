// Start bench: from spawning `node dist/server.js` to the first 200 from /readyz, on PostgreSQL (already
// migrated: a restart or a new instance) and on the embedded database (first start creates it, then a restart).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { appEnv, freePort, root, startNode, stopChild, waitFor200 } from './lib.mjs'

async function timeStart (env, label, log, script = 'dist/server.js') {
  const port = await freePort()
  const proc = startNode(`${root}${script}`, { ...env(port) }, { label })
  try {
    const readyAt = await waitFor200(`http://127.0.0.1:${port}/readyz`, proc.child, 120_000)
    return readyAt - proc.startedAt
  } catch (err) {
    // Recorded, not thrown: the rest of the run's results still count.
    log(`start: ${label} failed: ${err.message} (see ${proc.logFile})`)
    return NaN
  } finally {
    await stopChild(proc.child)
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

export async function startBench ({ db, log, runs = 3 }) {
  const postgresMs = []
  const referenceMs = []
  for (let i = 0; i < runs; i++) {
    // The machine's load moves start times a lot: a bare Fastify + postgres.js process started alongside says how much.
    log(`start: bare Fastify reference, run ${i + 1}`)
    referenceMs.push(await timeStart((port) => ({ DATABASE_URL: db.url, PORT: String(port), POOL_SIZE: '10' }), 'start-reference', log, 'bench/reference-server.mjs'))
    log(`start: PostgreSQL, run ${i + 1}`)
    postgresMs.push(await timeStart((port) => appEnv(port, db.url), 'start-pg', log))
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'joinlist-bench-data-'))
  const embeddedEnv = (port) => {
    const env = appEnv(port, undefined, { DATA_DIR: dataDir })
    delete env.DATABASE_URL
    delete env.TOKEN_SECRET
    return env
  }
  try {
    log('start: embedded database, first start (creates and migrates it)')
    const embeddedFirstMs = await timeStart(embeddedEnv, 'start-embedded', log)
    const embeddedMs = []
    for (let i = 0; i < runs; i++) {
      log(`start: embedded database, restart ${i + 1}`)
      embeddedMs.push(await timeStart(embeddedEnv, 'start-embedded', log))
    }
    return { referenceMs, referenceMedianMs: median(referenceMs), postgresMs, postgresMedianMs: median(postgresMs), embeddedFirstMs, embeddedMs, embeddedMedianMs: median(embeddedMs) }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}
