// Runs a rendered mail through SpamAssassin (Debian's `spamassassin`, local tests only: no DNS, no network) and
// reads back the score and the rules hit, so template edits can be checked before they reach an inbox.
import { spawn } from 'node:child_process'

export interface SpamRule { rule: string, points: number, description: string }
export interface SpamReport { score: number, required: number, rules: SpamRule[] }

export const SPAMASSASSIN = 'spamassassin'

/** Whether the spamassassin command can be run here. */
export async function spamAssassinAvailable (command = SPAMASSASSIN): Promise<boolean> {
  return await new Promise((resolve) => {
    const child = spawn(command, ['--version'], { stdio: 'ignore' })
    child.once('error', () => resolve(false))
    child.once('exit', (code) => resolve(code === 0))
  })
}

/**
 * Parses `spamassassin -t` output: exact per-rule scores from X-Spam-Tests, descriptions from the "Content
 * analysis details" table, the threshold from X-Spam-Status. The score is the exact sum, to 3 decimals.
 */
export function parseReport (output: string): SpamReport {
  const unfolded = output.replace(/\r?\n[ \t]+/g, ' ')
  const status = /^X-Spam-Status: \w+, score=(-?[\d.]+) required=(-?[\d.]+)/m.exec(unfolded)
  const tests = /^X-Spam-Tests: (.*)$/m.exec(unfolded)
  if (!status || !tests) throw new Error('spamassassin printed no X-Spam-Status or X-Spam-Tests header')
  const descriptions = new Map<string, string>()
  const table = output.split(/^---- -+ -+\s*$/m)[1] ?? ''
  let last = ''
  for (const line of table.split(/\r?\n/)) {
    const m = /^\s*-?\d+(?:\.\d+)?\s+([A-Z0-9_]+)\s+(.*)$/.exec(line)
    if (m) { last = m[1]; descriptions.set(last, m[2].trim()) } else if (/^\s{20,}\S/.test(line) && last) {
      descriptions.set(last, `${descriptions.get(last)} ${line.trim()}`)
    } else if (line.trim() === '' && last) break
  }
  const rules = tests[1].trim() === 'none'
    ? []
    : tests[1].split(',').map((t) => t.trim()).filter(Boolean).map((t) => {
      const [rule, points] = t.split('=')
      return { rule, points: Number(points), description: descriptions.get(rule) ?? '' }
    }).sort((a, b) => a.points - b.points || a.rule.localeCompare(b.rule))
  const score = Math.round(rules.reduce((sum, r) => sum + r.points, 0) * 1000) / 1000
  return { score, required: Number(status[2]), rules }
}

/**
 * `spamassassin -L -t`: local tests only, test mode (the report is appended). Bayes and auto-learning are off and
 * no user preferences are read, so the result depends on the message and Debian's rules alone.
 */
export async function spamCheck (raw: Buffer, command = SPAMASSASSIN): Promise<SpamReport> {
  // X-Spam-Tests carries each rule's exact score: the report table rounds 0.001 to "0.0".
  const args = ['-L', '-t', '-x', '-p', '/dev/null', '--cf=use_bayes 0', '--cf=bayes_auto_learn 0',
    '--cf=add_header all Tests _TESTSSCORES(,)_']
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    child.once('error', reject)
    child.once('close', (code) => code === 0
      ? resolve(Buffer.concat(out).toString('utf8'))
      : reject(new Error(`spamassassin exited ${code}: ${Buffer.concat(err).toString('utf8').trim().slice(0, 500)}`)))
    child.stdin.end(raw)
  })
  return parseReport(output)
}

/** One report as the lines `npm run mail:check` prints (and the README table copies). */
export function formatReport (name: string, report: SpamReport): string {
  const rules = report.rules.map((r) => `  ${r.points.toFixed(3).padStart(7)}  ${r.rule.padEnd(24)} ${r.description}`)
  return [`${name}: score ${report.score} (spam at ${report.required})`, ...rules].join('\n')
}
