// Waiting on a condition instead of sleeping for a guessed time: a test waits exactly as long as the thing it
// needs takes, and says what it was waiting for when it gives up.

/** Resolves once check() is true; rejects after timeoutMs, naming what never happened. */
export async function waitUntil (check: () => boolean | Promise<boolean>, timeoutMs = 10_000,
  describe: () => string = () => 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > end) throw new Error(`timed out waiting: ${describe()}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
