// Retry delays for the outboxes (mail and webhooks): capped exponential backoff with jitter, half fixed and half
// random, so a recovering server is not stampeded by every retry at once (AWS Architecture Blog, "Exponential
// Backoff And Jitter").

/** The delay before the next try after `attempts` failed ones: between half and all of min(max, base × 2^(attempts−1)). */
export function retryDelayMs (attempts: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** (Math.max(1, attempts) - 1))
  return cap / 2 + random() * cap / 2
}
