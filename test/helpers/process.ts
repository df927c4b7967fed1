// For tests that run the real server in a child process: dist/ built from the current src/, and a free port.
import { execFile } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'

const newest = (dir: string): number => Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) =>
  e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs))

/** Builds dist/ if src/ is newer: `npm test` builds first (pretest); this covers running one test file alone. */
export async function ensureBuilt (): Promise<void> {
  let built = 0
  try { built = statSync('dist/server.js').mtimeMs } catch {}
  if (built >= newest('src')) return
  await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'])
}

/** A free port on 127.0.0.1, for a server whose address must be known before it starts. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
