// Staff command line: `npm run cli -- show|erase <email>`, `export [--status …] [--since …] [--list …] [--output …]`,
// `lists [add|rename|archive|reopen …]`, `import <file.csv> --list <slug>`, `purge`, `staff add <email> --role …`.
// The same domain functions and the same consent-ledger records as the HTTP endpoints, for staff with server access.
import { createWriteStream } from 'node:fs'
import { rename, unlink } from 'node:fs/promises'
import { userInfo } from 'node:os'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { sql } from 'drizzle-orm'
import { ConfigError, loadConfig, loadDotEnv, resolveTokenSecret, type Config } from './config.js'
import { migrate, openDatabase, type Database } from './db/client.js'
import { DatabaseInUseError } from './db/embedded-lock.js'
import { parseEmail } from './domain/email.js'
import { EXPORT_STATUSES, sinceOutOfRange, type ExportFilter, type ExportStatus } from './domain/export.js'
import { auditedExport, type Actor } from './domain/ledger.js'
import { ensureConsentText } from './domain/consent.js'
import { ListError, type NewList } from './domain/lists.js'
import { erase, subjectAccess, type PrivacyDeps } from './domain/privacy.js'
import { purge } from './domain/retention.js'
import { messageIdDomain } from './mail/messages.js'
import { staffCommand } from './staff-cli.js'
import { importCommand } from './import-cli.js'
import { openLists, prepareData, secretsOf } from './plugins/lifecycle.js'

export interface CliContext {
  /** An open, migrated database; without one, runCli opens (and closes) the one the config names. */
  database?: Database
  config: Config & { tokenSecret: string }
  stdout: Writable
  stderr: Writable & { isTTY?: boolean }
  now?: () => Date
  /** Who runs it, for the ledger; defaults to the operating-system user. */
  user?: string
}

type OpenContext = CliContext & { database: Database }

const USAGE = `Usage: npm run cli -- <command>
  show <email>                              everything held about an address, as JSON (subject access)
  erase <email>                             erase an address; only a suppression hash remains
  export [--status S] [--since DATE] [--list SLUG]... [--output FILE]
                                            the staff CSV, on stdout or into FILE (S: ${EXPORT_STATUSES.join(', ')};
                                            default confirmed); FILE appears only once the export is complete;
                                            --list: a row per subscription on that list (repeatable)
  lists                                     the lists, as JSON
  lists add <slug> <name> [--hidden] [--default] [--description TEXT]
                                            a new list (slug: lower-case letters, digits, hyphens)
  lists rename <slug> <name>                rename a list
  lists archive|reopen <slug>               close a list to sign-ups (its subscriptions are kept), or open it again
  import <file.csv> --list SLUG [--dry-run] [--send-confirmations] [--per-minute N]
                                            import a Mailchimp, listmonk or spreadsheet CSV into a list, in one
                                            transaction; prints the report as JSON. --send-confirmations: mail the
                                            rows imported as pending, N a minute (default 60); by default none
  purge                                     delete unconfirmed sign-ups past PENDING_RETENTION_DAYS now
  staff add <email> --role owner|editor|viewer [--mail]
                                            a staff account; prints its one-time link to set a password
Tip: npm prints its own banner on stdout, so use --output FILE (or \`npm run --silent cli -- export > list.csv\`).
\`npm run --silent cli -- <command> --help\` tells more about one command. Settings come from the environment, or
from a .env file in the current folder when there is one.
`

/** `<command> --help`: what it does, its options and an example. */
const COMMAND_HELP: Record<string, string> = {
  show: `Usage: npm run --silent cli -- show <email>
Prints everything held about the address as JSON (a subject access request), and records the access in the ledger.
Exit code 1 when nothing is held about it.
`,
  erase: `Usage: npm run --silent cli -- erase <email>
Unsubscribes the address and deletes everything held about it; only a keyed hash stays on the suppression list, so an
import cannot add it back. Recorded in the ledger.
`,
  export: `Usage: npm run --silent cli -- export [--status S] [--since DATE] [--list SLUG]... [--output FILE]
  --status S      ${EXPORT_STATUSES.join(', ')} (default confirmed)
  --since DATE    only sign-ups from DATE on (ISO 8601, e.g. 2026-01-31)
  --list SLUG     a row per subscription on that list (repeatable)
  --output FILE   write into FILE, which appears only once the export is complete (-o for short)
The same CSV as GET /admin/subscribers.csv, recorded in the ledger. Example:
  npm run --silent cli -- export --status all --since 2026-01-01 --output list.csv
`,
  lists: `Usage: npm run --silent cli -- lists [add|rename|archive|reopen] ...
  lists                                  the lists, as JSON
  lists add <slug> <name> [--hidden] [--default] [--description TEXT]
                                         a new list (slug: lower-case letters, digits, hyphens)
  lists rename <slug> <name>             rename a list
  lists archive|reopen <slug>            close a list to sign-ups (its subscriptions are kept), or open it again
`,
  staff: `Usage: npm run --silent cli -- staff add <email> --role owner|editor|viewer [--mail]
Adds a staff account and prints its one-time link to set a password; with --mail, the link is also mailed to them
(through the outbox: the running server sends it).
`,
  purge: `Usage: npm run --silent cli -- purge
Deletes unconfirmed sign-ups older than PENDING_RETENTION_DAYS now, as the server does every PURGE_INTERVAL_MINUTES.
`
}

/** The help text asked for with `--help`/`-h` (or `help [command]`), or undefined when none was asked for. */
function helpWanted (argv: string[]): string | undefined {
  const { values, positionals } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } }, strict: false, allowPositionals: true })
  if (!values.help && positionals[0] !== 'help') return undefined
  const command = positionals[0] === 'help' ? positionals[1] : positionals[0]
  return command && Object.hasOwn(COMMAND_HELP, command) ? COMMAND_HELP[command] : USAGE
}

class UsageError extends Error {}

/** Runs one command; returns the process exit code (0 ok, 1 not found or failed, 2 usage). */
export async function runCli (argv: string[], ctx: CliContext): Promise<number> {
  // Help needs no database: it is answered before one is opened.
  const help = helpWanted(argv)
  if (help) { ctx.stdout.write(help); return 0 }
  const { database } = ctx
  if (!database) return await withDatabase(argv, ctx)
  const now = ctx.now ?? (() => new Date())
  const who: Actor = { actor: `cli:${ctx.user ?? userInfo().username}`, method: 'cli' }
  const deps: PrivacyDeps = { database, now, secrets: secretsOf(ctx.config) }
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'show': {
        const access = await subjectAccess(deps, emailArg(rest), who)
        ctx.stdout.write(JSON.stringify(access, null, 2) + '\n')
        if (!access.subscriber && !access.suppressed) { ctx.stderr.write('No data is held about this address.\n'); return 1 }
        return 0
      }
      case 'erase': {
        const held = await erase(deps, { emailNormalized: emailArg(rest) }, who)
        ctx.stdout.write(JSON.stringify({ status: 'erased', held, suppressed: true }) + '\n')
        return 0
      }
      case 'export': {
        const { filter, output } = exportOptions(rest, now())
        return await exportCsv({ ...ctx, database }, filter, output, who, now)
      }
      case 'lists':
        return await listsCommand(ctx, database, rest, now)
      case 'import': {
        const result = await importCommand({ ...ctx, database }, rest, who, now)
        if ('usage' in result) throw new UsageError(result.usage)
        return result.code
      }
      case 'purge': {
        const result = await purge(database, now(), ctx.config.pendingRetentionDays)
        ctx.stdout.write(JSON.stringify(result) + '\n')
        return 0
      }
      case 'staff': {
        const result = await staffCommand(database, rest, ctx.config.publicUrl, messageIdDomain(ctx.config), who.actor, now())
        if ('usage' in result) throw new UsageError(result.usage)
        ;(result.code === 0 ? ctx.stdout : ctx.stderr).write(result.text)
        return result.code
      }
      default:
        throw new UsageError(command ? `Unknown command: ${command}` : 'No command given.')
    }
  } catch (err) {
    if (err instanceof ListError) { ctx.stderr.write(`${err.message}\n`); return 1 }
    if (!(err instanceof UsageError)) throw err
    ctx.stderr.write(`${err.message}\n${USAGE}`)
    return 2
  }
}

// What to use instead while the server holds the embedded database (src/db/embedded-lock.ts).
const OVER_HTTP: Record<string, string> = {
  show: 'GET /admin/subscribers/:email',
  erase: 'DELETE /admin/subscribers/:email',
  export: 'GET /admin/subscribers.csv'
}

/** Opens the configured database for one command, and closes it after; refuses while another process holds it. */
async function withDatabase (argv: string[], ctx: CliContext): Promise<number> {
  const opts = { databaseUrl: ctx.config.databaseUrl, dataDir: ctx.config.dataDir, poolSize: 2 }
  let database: Database
  try {
    database = await openDatabase(opts)
  } catch (err) {
    if (!(err instanceof DatabaseInUseError)) throw err
    const command = argv[0] ?? ''
    const instead = Object.hasOwn(OVER_HTTP, command) ? OVER_HTTP[command] : 'the staff endpoints (see GET /docs)'
    ctx.stderr.write(`${err.message}\nNothing was changed. While the server runs, use ${instead} with the staff token ` +
      '(Authorization: Bearer $ADMIN_TOKEN), or stop the server first and run this command again.\n')
    return 1
  }
  try {
    await migrate(opts, database)
    await prepareData(database, secretsOf(ctx.config), (data, message) => ctx.stderr.write(`${message} ${JSON.stringify(data)}\n`))
    return await runCli(argv, { ...ctx, database })
  } finally {
    await database.close()
  }
}

/** `lists …`: the same functions as /admin/api/lists. */
async function listsCommand (ctx: CliContext, database: Database, args: string[], now: () => Date): Promise<number> {
  const lists = openLists(database, ctx.config, await ensureConsentText(database, ctx.config.consentText), now)
  const [sub, slug, ...more] = args
  try {
    let changed
    if (sub === undefined) {
      ctx.stdout.write(JSON.stringify(await lists.all(), null, 2) + '\n')
      return 0
    } else if (sub === 'add' && slug && more[0] && !more[0].startsWith('--')) {
      const input: NewList = { slug, name: more[0] }
      for (let i = 1; i < more.length; i++) {
        if (more[i] === '--hidden') input.public = false
        else if (more[i] === '--default') input.isDefault = true
        else if (more[i] === '--description' && more[i + 1] !== undefined) input.description = more[++i]
        else throw new UsageError(`Bad lists add option: ${more[i]}`)
      }
      changed = await lists.create(input)
    } else if (sub === 'rename' && slug && more.length === 1) {
      changed = await lists.update(slug, { name: more[0] })
    } else if ((sub === 'archive' || sub === 'reopen') && slug && more.length === 0) {
      changed = await lists.update(slug, { archived: sub === 'archive' })
    } else {
      throw new UsageError(`Bad lists command: ${args.join(' ')}`)
    }
    ctx.stdout.write(JSON.stringify(changed, null, 2) + '\n')
    return 0
  } catch (err) {
    if (!(err instanceof ListError)) throw err
    ctx.stderr.write(`${err.message}\n`)
    return 1
  }
}

function emailArg (args: string[]): string {
  if (args.length !== 1) throw new UsageError('Give exactly one email address.')
  const parsed = parseEmail(args[0])
  if (!parsed.ok) throw new UsageError(parsed.message)
  return parsed.normalized
}

function exportOptions (args: string[], now: Date): { filter: ExportFilter, output?: string } {
  let values: { status?: string, since?: string, list?: string[], output?: string }
  try {
    ({ values } = parseArgs({
      args,
      options: {
        status: { type: 'string' },
        since: { type: 'string' },
        list: { type: 'string', multiple: true },
        output: { type: 'string', short: 'o' }
      },
      allowPositionals: false
    }))
  } catch (err) {
    throw new UsageError(`Bad export option: ${(err as Error).message}`)
  }
  const filter: ExportFilter = { status: 'confirmed' }
  if (values.status !== undefined) {
    if (!(EXPORT_STATUSES as readonly string[]).includes(values.status)) throw new UsageError(`Bad export option: --status ${values.status}`)
    filter.status = values.status as ExportStatus
  }
  if (values.since !== undefined) {
    if (Number.isNaN(Date.parse(values.since))) throw new UsageError(`Bad export option: --since ${values.since}`)
    filter.since = sinceArg(values.since, now)
  }
  for (const list of values.list ?? []) {
    if (!list) throw new UsageError('Bad export option: --list needs a slug')
    filter.lists = [...filter.lists ?? [], list]
  }
  return { filter, output: values.output || undefined }
}

function sinceArg (value: string, now: Date): Date {
  const since = new Date(value)
  const problem = sinceOutOfRange(since, now)
  if (problem) throw new UsageError(problem.replace(/^since/, '--since'))
  return since
}

/**
 * The CSV goes to stdout, or to `output` through a temporary file next to it that is renamed into place once the
 * export has ended: a failed or interrupted export never leaves a partial list behind (or replaces a good one).
 */
async function exportCsv (ctx: OpenContext, filter: ExportFilter, output: string | undefined, who: Actor,
  now: () => Date): Promise<number> {
  let sink: Writable = ctx.stdout
  const partial = output && `${output}.partial-${process.pid}`
  if (partial) {
    // Opened before the export starts, so an unwritable path fails before anything is read or audited.
    const file = createWriteStream(partial, { flags: 'wx' })
    const failed = await new Promise<Error | null>((resolve) => { file.once('open', () => resolve(null)).once('error', resolve) })
    if (failed) {
      const code = (failed as NodeJS.ErrnoException).code ?? failed.message
      ctx.stderr.write(`Cannot write ${output} (${code}): check that its folder exists and is writable.\n`)
      return 1
    }
    sink = file
  }
  try {
    const rows = await writeExport(ctx, sink, filter, who, now)
    if (partial) await rename(partial, output)
    ctx.stderr.write(`${ctx.stderr.isTTY ? '\n' : ''}Exported ${rows} rows (${filter.status}${filter.since ? ` since ${filter.since.toISOString()}` : ''})${output ? ` to ${output}` : ''}.\n`)
    return 0
  } catch (err) {
    if (partial) {
      sink.destroy()
      await unlink(partial).catch(() => {})
    }
    throw err
  }
}

async function writeExport (ctx: OpenContext, sink: Writable, filter: ExportFilter, who: Actor,
  now: () => Date): Promise<number | undefined> {
  const since = filter.since?.toISOString() ?? null
  const [total] = filter.lists?.length
    ? await ctx.database.rows<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM subscriptions p JOIN lists l ON l.id = p.list_id
      WHERE l.slug IN (${sql.join(filter.lists.map((slug) => sql`${slug}`), sql`, `)})
        AND (${filter.status} = 'all' OR p.status::text = ${filter.status})
        AND (${since}::timestamptz IS NULL OR p.signed_up_at >= ${since}::timestamptz)`)
    : await ctx.database.rows<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM subscribers
      WHERE (${filter.status} = 'all' OR status::text = ${filter.status})
        AND (${since}::timestamptz IS NULL OR signed_up_at >= ${since}::timestamptz)`)
  const copy = await auditedExport(ctx.database, ctx.config.publicUrl, filter, who, now)
  const progress = () => {
    const done = copy.rowsSoFar()
    const share = Number(total.n) ? done / Number(total.n) : 1
    const bar = '#'.repeat(Math.round(share * 30)).padEnd(30, '.')
    ctx.stderr.write(`\r[${bar}] ${done}/${total.n} rows`)
  }
  // A progress bar only where someone watches; a log file gets the closing line alone.
  const timer = ctx.stderr.isTTY ? setInterval(progress, 250) : undefined
  try {
    // A file is ended (and flushed) with the export; stdout stays open. An error on either side ends both.
    await pipeline(copy.stream, sink, { end: sink !== ctx.stdout })
  } finally {
    clearInterval(timer)
  }
  const rows = await copy.rows
  if (ctx.stderr.isTTY) progress()
  return rows
}

/* c8 ignore start: the process entry point; runCli above is what the tests drive */
async function main (): Promise<number> {
  let config: Config
  try {
    loadDotEnv()
    config = loadConfig()
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`Configuration error: ${err.message}\n`)
    return 1
  }
  return await runCli(process.argv.slice(2), { config: { ...config, tokenSecret: resolveTokenSecret(config) }, stdout: process.stdout, stderr: process.stderr })
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then((code) => { process.exitCode = code }, (err) => {
    process.stderr.write(`joinlist cli failed: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  })
}
/* c8 ignore stop */
