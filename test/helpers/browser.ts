// Browser-test plumbing: Debian's Chromium through playwright-core (never a downloaded browser), axe-core
// injected from npm, screenshots under test/screenshots/, and the app listening on a real port.
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
const require = createRequire(import.meta.url)
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
const SHOTS = new URL('../screenshots/', import.meta.url)

/** Why the browser tests cannot run here, or undefined when they can. Under CI=true a missing browser fails. */
export function browserSkipReason (): string | undefined {
  if (existsSync(CHROMIUM)) return undefined
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: CI must run the browser tests (apt-get install -y chromium)`)
  return `browser tests skipped: ${CHROMIUM} not found (install it with: apt-get install -y chromium)`
}

/**
 * Runs a browser test file's body, or, where Chromium is missing outside CI, passes with the reason (under CI=true a
 * missing browser fails, see browserSkipReason).
 */
export async function withBrowser (t: { comment: (message: string) => void, pass: (message: string) => void },
  run: () => Promise<void>): Promise<void> {
  const skip = browserSkipReason()
  if (skip) {
    t.comment(skip)
    t.pass(skip)
    return
  }
  await run()
}

export async function launch (): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 30_000
  })
}

export interface AxeViolation { id: string, impact: string | null, help: string, nodes: { target: string[], failureSummary?: string }[] }

/** axe-core with the WCAG 2.0/2.1/2.2 A and AA rules; returns the violations. */
export async function axe (page: Page): Promise<{ violations: AxeViolation[], passes: number }> {
  if (!await page.evaluate(() => 'axe' in window)) await page.evaluate(AXE_SOURCE)
  return page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[], passes: unknown[] }> } }).axe
      .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'] }, resultTypes: ['violations'] })
    return {
      violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) })),
      passes: result.passes.length
    }
  })
}

export async function screenshot (page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true })
  await page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true })
}

/** A static site on another origin that serves one HTML page. */
export async function staticSite (body: string): Promise<{ url: string, server: Server }> {
  const server = createServer((req, res) => {
    if (req.url !== '/') { res.writeHead(404).end(); return }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A council website</title></head><body><main><h1>A council website</h1>${body}</main></body></html>`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server }
}
