// Builds dist/ only when a file under src/ (or the build config) is newer than the last build, so `npm run cli`
// answers at once when nothing changed. `npm run build` always builds.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'

const newest = (dir) => readdirSync(dir, { withFileTypes: true, recursive: true })
  .filter((e) => e.isFile()).reduce((m, e) => Math.max(m, statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs), 0)

const built = existsSync('dist/cli.js') && existsSync('dist/server.js') ? statSync('dist/cli.js').mtimeMs : 0
const sources = Math.max(newest('src'), statSync('tsconfig.json').mtimeMs, statSync('tsconfig.build.json').mtimeMs)
if (sources > built) execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
