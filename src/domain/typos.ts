// "Did you mean jane@gmail.com?": a likely typo in the domain of an address, found by the maintained
// @zootools/email-spell-checker (the Mailcheck algorithm: edit distance to popular domains and top-level domains).
import spellChecker from '@zootools/email-spell-checker'

// Public-sector and academic endings in the UK and Wales: without them `council.gov.uk` would be "corrected" to `.gov`.
const TOP_LEVEL_DOMAINS = [...spellChecker.POPULAR_TLDS, 'gov.uk', 'ac.uk', 'nhs.uk', 'nhs.net', 'org.uk', 'sch.uk',
  'police.uk', 'mod.uk', 'parliament.uk', 'gov.wales', 'llyw.cymru', 'senedd.wales', 'senedd.cymru', 'cymru', 'wales',
  'gov.scot', 'ltd.uk', 'plc.uk', 'me.uk', 'net.uk']
const UK_ENDINGS = TOP_LEVEL_DOMAINS.filter((d) => !spellChecker.POPULAR_TLDS.includes(d))
// The mailbox providers most addresses belong to: `gmial` on its own is then recognised as `gmail`.
const SECOND_LEVEL_DOMAINS = ['gmail', 'googlemail', 'hotmail', 'outlook', 'live', 'yahoo', 'icloud', 'btinternet',
  'aol', 'protonmail', 'virginmedia', 'sky', 'talktalk', 'ntlworld', 'blueyonder']

/**
 * The corrected address, or undefined when the domain looks right. A second pass catches two typos at once
 * (`gmial.con` → `gmial.co` → `gmail.com`); the part before the @ is never touched.
 */
export function suggestAddress (email: string): string | undefined {
  let current = email
  for (let pass = 0; pass < 2; pass++) {
    const domain = current.slice(current.lastIndexOf('@') + 1).toLowerCase()
    // The library's own lists as well: they know whole domains (`gmail.co` → `gmail.com`), but not the UK endings.
    const found = spellChecker.run({ email: current, topLevelDomains: TOP_LEVEL_DOMAINS, secondLevelDomains: SECOND_LEVEL_DOMAINS }) ??
      (UK_ENDINGS.some((end) => domain.endsWith(`.${end}`)) ? undefined : spellChecker.run({ email: current }))
    if (!found || found.full === current) break
    current = found.full
  }
  if (current === email) return undefined
  const at = email.lastIndexOf('@')
  return `${email.slice(0, at)}@${current.slice(current.lastIndexOf('@') + 1)}`
}
