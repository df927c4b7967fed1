// TOKEN_SECRET and, while it is being replaced, the one before it (TOKEN_SECRET_PREVIOUS): new signatures and hashes
// use the current one; checks accept either, so a rotation breaks nothing already handed out.

export interface Secrets {
  current: string
  previous?: string
}

/** Every secret a check may accept, the current one first. */
export const acceptedSecrets = (secrets: Secrets): string[] => secrets.previous ? [secrets.current, secrets.previous] : [secrets.current]
