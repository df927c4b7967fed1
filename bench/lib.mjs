// Bench plumbing: a throwaway database, child processes (server under test, reference, SMTP sink), readiness,
// and peak-RSS sampling from /proc. Nothing here measures by itself.
import { spawn } from 'node:child_process'
import { openSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'

export const root = fileURLToPath(new URL('..', import.meta.url))
export const TOKEN_SECRET = 'bench-token-secret-0123456789abcdefghijkl'
export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdefghijklm'
export const PUBLIC_URL = 'https://news.example.org'
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Creates joinlist_bench_<pid> on DATABASE_URL's server; returns its URL and a drop function. */
export async function benchDatabase (adminUrl) {
  const name = `joinlist_bench_${process.pid}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.unsafe(`CREATE DATABASE ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const { migrate } = await import('../dist/db/client.js')
  await migrate({ databaseUrl: url.toString() })
  const sql = postgres(url.toString(), { max: 2, onnotice: () => {} })
  return {
    name,
    url: url.toString(),
    sql,
    async drop () {
      await sql.end({ timeout: 5 })
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end({ timeout: 5 })
    }
  }
}

export function freePort () {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** The node flags of package.json's start script (`node --flag … dist/server.js`). */
export const START_FLAGS = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start
  .split(/\s+/).filter((arg) => arg.startsWith('--'))

const children = new Set()
process.on('exit', () => { for (const c of children) c.kill('SIGKILL') })

/**
 * Starts a node process; stdout/stderr go to a log file in the temp dir (what a real deployment does with its
 * log lines costs about the same as a file write). Resolves with the child and its start time.
 */
export function startNode (script, env, { label, ipc = false } = {}) {
  const logFile = join(tmpdir(), `joinlist-bench-${process.pid}-${label}.log`)
  const out = openSync(logFile, 'a')
  const startedAt = performance.now()
  // The app runs with the node flags `npm start` gives it (package.json), as deployed.
  // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles every app process of the run.
  const nodeArgs = script.endsWith('dist/server.js') ? [...START_FLAGS, ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)] : []
  const child = spawn(process.execPath, [...nodeArgs, script], {
    cwd: root,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', ...env },
    stdio: ['ignore', out, out, ...(ipc ? ['ipc'] : [])]
  })
  children.add(child)
  child.once('exit', () => children.delete(child))
  return { child, startedAt, logFile, stop: () => stopChild(child) }
}

/** The next IPC message of a given type from a child started with `ipc: true`. */
export const nextMessage = (child, type) => new Promise((resolve, reject) => {
  const onMessage = (msg) => { if (msg.type === type) { cleanup(); resolve(msg) } }
  const onExit = (code) => { cleanup(); reject(new Error(`child exited ${code} while waiting for ${type}`)) }
  const cleanup = () => { child.off('message', onMessage); child.off('exit', onExit) }
  child.on('message', onMessage)
  child.once('exit', onExit)
})

export function stopChild (child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.once('exit', () => { clearTimeout(timer); resolve() })
    child.kill('SIGTERM')
  })
}

/** Polls GET url every 5 ms until it answers 200; returns the time it did (performance.now()). */
export async function waitFor200 (url, child, timeoutMs = 60_000) {
  const end = performance.now() + timeoutMs
  while (performance.now() < end) {
    if (child && child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before ${url} answered`)
    try {
      const res = await fetch(url)
      await res.arrayBuffer()
      if (res.status === 200) return performance.now()
    } catch { /* not listening yet */ }
    await sleep(5)
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`)
}

/** The app's environment for the bench: PostgreSQL, no worker unless asked, rate limits raised. */
export function appEnv (port, databaseUrl, extra = {}) {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL,
    DATABASE_URL: databaseUrl,
    TOKEN_SECRET,
    ADMIN_TOKEN,
    LOG_LEVEL: 'info',
    WORKER: 'false',
    ...RATE_LIMITS_RAISED,
    ...extra
  }
}

// Every client is 127.0.0.1 and every address is fresh: limits per IP would stop the run after a few requests.
// Raised (not removed) so the limiter's own cost is still in the numbers.
// The highest values config.ts accepts: 100,000 requests per client per 1 s window.
export const RATE_LIMITS_RAISED = {
  RATE_LIMIT_SUBSCRIBE_MAX: '100000',
  RATE_LIMIT_TOKEN_MAX: '100000',
  RATE_LIMIT_WINDOW_SECONDS: '1'
}

/** A process's resident memory now (VmRSS), in MB. */
export function rssMb (pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

/** Peak resident memory of a process while fn runs: resets the kernel's high-water mark, samples VmRSS too. */
export async function peakRss (pid, fn) {
  const status = () => readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (text, field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? 0)
  let hwmReset = true
  try { writeFileSync(`/proc/${pid}/clear_refs`, '5') } catch { hwmReset = false }
  const before = kb(status(), 'VmRSS')
  let sampled = before
  const timer = setInterval(() => { try { sampled = Math.max(sampled, kb(status(), 'VmRSS')) } catch {} }, 10)
  try {
    const result = await fn()
    const after = status()
    sampled = Math.max(sampled, kb(after, 'VmRSS'))
    const peakKb = hwmReset ? Math.max(sampled, kb(after, 'VmHWM')) : sampled
    return { result, peakMb: peakKb / 1024, beforeMb: before / 1024 }
  } finally {
    clearInterval(timer)
  }
}

export const round = (n, digits = 0) => Number.isFinite(n) ? Number(n.toFixed(digits)) : n

const TICK_MS = 10 // Linux USER_HZ is 100 on every mainstream build: /proc/<pid>/stat counts 10 ms ticks

/** CPU time (user + system, ms) used so far by each pid; a pid that is gone counts 0. */
export function cpuMs (pids) {
  const out = new Map()
  for (const pid of pids) {
    try {
      // Fields after the command name, which is in parentheses and may contain spaces.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.set(pid, (Number(fields[11]) + Number(fields[12])) * TICK_MS)
    } catch { out.set(pid, 0) }
  }
  return out
}

/** The PostgreSQL backend pids serving one application_name in one database (same machine: /proc is readable). */
export async function backendPids (sql, database, applicationName) {
  const rows = await sql`SELECT pid FROM pg_stat_activity WHERE datname = ${database} AND application_name = ${applicationName}`
  return rows.map((r) => r.pid)
}

/** CPU ms used by a server process and its database backends while fn runs. */
export async function cpuDuring (sql, database, serverPid, applicationName, fn) {
  const before = cpuMs([serverPid, ...await backendPids(sql, database, applicationName)])
  const result = await fn()
  const pids = new Set([...before.keys(), ...await backendPids(sql, database, applicationName)])
  const after = cpuMs([...pids])
  const delta = (pid) => Math.max(0, (after.get(pid) ?? 0) - (before.get(pid) ?? 0))
  let db = 0
  for (const pid of pids) if (pid !== serverPid) db += delta(pid)
  return { result, serverCpuMs: delta(serverPid), dbCpuMs: db }
}
