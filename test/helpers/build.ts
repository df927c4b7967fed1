// Makes sure dist/ is built from the current src/ before a test runs the real `node dist/server.js`.
// `npm test` builds first (pretest); this covers running one test file alone.
import { execFile } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'

const newest = (dir: string): number => Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) =>
  e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs))

export async function ensureBuilt (): Promise<void> {
  let built = 0
  try { built = statSync('dist/server.js').mtimeMs } catch {}
  if (built >= newest('src')) return
  await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'])
}
