// The message catalogues: every shipped language has every key and placeholder English has (a language is a
// folder in locales/), and plurals follow each language's CLDR rules.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { catalogueProblems, CatalogueError, duration, LANGUAGES, loadCatalogues, LOCALES_DIR } from '../../src/messages/index.js'

const read = (lang: string) => JSON.parse(readFileSync(join(LOCALES_DIR, lang, 'messages.json'), 'utf8'))

t.test('every shipped catalogue has every key and placeholder of the English one', async (t) => {
  t.ok(Object.keys(LANGUAGES).includes('cy'), 'Welsh is shipped')
  for (const lang of Object.keys(LANGUAGES)) t.same(catalogueProblems(read('en'), read(lang)), [], `${lang} is complete`)
  // The staff side is in the catalogues too: the console, the staff pages and the staff API's messages.
  for (const group of ['nav', 'subscribers', 'erase', 'mail', 'audit', 'import', 'staff', 'keys', 'dashboard', 'webhooks', 'api', 'importProblems', 'passwords']) {
    t.ok(Object.keys(read('cy').console[group] ?? {}).length > 0, `the Welsh catalogue has console.${group}`)
  }
  t.not(LANGUAGES.cy.t('console.subscribers.title'), LANGUAGES.en.t('console.subscribers.title'), 'and it is Welsh, not a copy of the English')
})

t.test('a catalogue missing a key, or a placeholder, stops the start naming the file and the key', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'joinlist-locales-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  cpSync(LOCALES_DIR, dir, { recursive: true })
  const welsh = read('cy')
  delete welsh.thanks.spam
  welsh.confirm.body = 'Pwyswch y botwm.'
  writeFileSync(join(dir, 'cy', 'messages.json'), JSON.stringify(welsh))
  t.throws(() => loadCatalogues(dir), new CatalogueError(`${join(dir, 'cy', 'messages.json')}: missing key thanks.spam; confirm.body has placeholders {}, English has {email}`))
})

t.test('a third language is one more folder', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'joinlist-locales-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  cpSync(LOCALES_DIR, dir, { recursive: true })
  cpSync(join(dir, 'en'), join(dir, 'ga'), { recursive: true })
  const irish = read('en')
  irish.meta.name = 'Gaeilge'
  writeFileSync(join(dir, 'ga', 'messages.json'), JSON.stringify(irish))
  const languages = loadCatalogues(dir)
  t.same(Object.keys(languages).sort(), ['cy', 'en', 'ga'])
  t.equal(languages.ga.name, 'Gaeilge')
})

t.test('plurals follow Intl.PluralRules: Welsh mutates after two, English has one and other', async (t) => {
  const { en, cy } = LANGUAGES
  t.equal(duration(en, 1), '1 second')
  t.equal(duration(en, 60), '1 minute')
  t.equal(duration(en, 120), '2 minutes')
  t.equal(duration(en, 72 * 3600), '3 days')
  t.equal(duration(cy, 120), '2 funud', 'two: soft mutation')
  t.equal(duration(cy, 180), '3 munud')
  t.equal(duration(cy, 2 * 86400), '2 ddiwrnod')
  t.equal(cy.t('signup.suggest', { suggestion: 'jane@gmail.com' }), "Oeddech chi'n golygu jane@gmail.com?")
})
