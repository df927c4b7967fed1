// `npm run cli -- import <file.csv> --list <slug> [--dry-run] [--send-confirmations] [--per-minute N]`: the same
// import as POST /admin/api/imports (src/domain/import.ts), with a progress bar when run on a terminal.
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { Writable } from 'node:stream'
import type { Config } from './config.js'
import type { Database } from './db/client.js'
import { ensureConsentText } from './domain/consent.js'
import { importFile, ImportError, reportIn, type ImportOptions } from './domain/import.js'
import type { Actor } from './domain/ledger.js'
import { messageIdDomain } from './mail/messages.js'
import { messagesIn } from './messages/index.js'
import { openLists, secretsOf } from './plugins/lifecycle.js'

interface ImportCliContext {
  database: Database
  config: Config & { tokenSecret: string }
  stdout: Writable
  stderr: Writable & { isTTY?: boolean }
}

const USAGE = 'Usage: import <file.csv> --list SLUG [--dry-run] [--send-confirmations] [--per-minute N]'

export async function importCommand (ctx: ImportCliContext, args: string[], who: Actor, now: () => Date): Promise<{ code: number } | { usage: string }> {
  const [file, ...flags] = args
  if (!file || file.startsWith('--')) return { usage: `Give the file to import. ${USAGE}` }
  const options: ImportOptions = { list: '' }
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i]
    if (flag === '--list' && flags[i + 1]) options.list = flags[++i]
    else if (flag === '--dry-run') options.dryRun = true
    else if (flag === '--send-confirmations') options.sendConfirmations = true
    else if (flag === '--per-minute' && /^[1-9]\d{0,5}$/.test(flags[i + 1] ?? '')) options.confirmationsPerMinute = Number(flags[++i])
    else return { usage: `Bad import option: ${flag}. ${USAGE}` }
  }
  if (!options.list) return { usage: `Name the list to import into with --list SLUG. ${USAGE}` }
  let size: number
  try {
    size = (await stat(file)).size
  } catch (err) {
    ctx.stderr.write(`Cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}).\n`)
    return { code: 1 }
  }
  const { config, database } = ctx
  const lists = openLists(database, config, await ensureConsentText(database, config.consentText), now)
  const input = createReadStream(file, { highWaterMark: 256 * 1024 })
  // A progress bar only where someone watches; a log file gets the report alone.
  const progress = () => {
    const share = size ? input.bytesRead / size : 1
    const bar = '#'.repeat(Math.round(share * 30)).padEnd(30, '.')
    ctx.stderr.write(`\r[${bar}] ${(input.bytesRead / 1e6).toFixed(1)}/${(size / 1e6).toFixed(1)} MB${share >= 1 ? ', writing' : ''}`)
  }
  const timer = ctx.stderr.isTTY ? setInterval(progress, 250) : undefined
  try {
    const report = reportIn(messagesIn('en'), await importFile({
      database,
      lists,
      secrets: secretsOf(config),
      now,
      messageIdDomain: messageIdDomain(config),
      confirmTtlHours: config.confirmTtlHours
    }, input as AsyncIterable<Buffer>, options, who))
    if (timer) { progress(); ctx.stderr.write('\n') }
    ctx.stdout.write(JSON.stringify(report, null, 2) + '\n')
    const r = report.rows
    ctx.stderr.write(`${report.dryRun ? 'Dry run, nothing was changed: ' : ''}${r.read} rows read, ${r.added} added, ${r.updated} updated, ` +
      `${r.unchanged} unchanged, ${r.suppressed} suppressed, ${r.invalid} invalid, ${r.duplicates} duplicates.\n`)
    return { code: 0 }
  } catch (err) {
    if (!(err instanceof ImportError)) throw err
    if (timer) ctx.stderr.write('\n')
    ctx.stderr.write(`${err.message}\nNothing was imported.\n`)
    return { code: 1 }
  } finally {
    clearInterval(timer)
    input.destroy()
  }
}
