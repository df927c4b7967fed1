// `npm run mail:check`: renders every mail template, in every language, with sample data and prints its SpamAssassin score and rules.
// Exit code 1 if a template scores above 0 (the target: no spam points at all), 2 if it cannot run.
import { loadConfig, loadDotEnv } from '../config.js'
import { LANGUAGES } from '../messages/index.js'
import { mailSettings } from './messages.js'
import { MAIL_KIND_NAMES, rawMessage, sampleMail } from './samples.js'
import { formatReport, spamAssassinAvailable, spamCheck } from './spamcheck.js'

async function main (): Promise<number> {
  if (!await spamAssassinAvailable()) {
    process.stderr.write('spamassassin is not installed: apt-get install -y spamassassin\n')
    return 2
  }
  loadDotEnv()
  const config = loadConfig()
  // Unset PUBLIC_URL means http://localhost:PORT, which no real mail carries (and SpamAssassin flags the port).
  if (/^http:\/\/localhost[:/]/.test(config.publicUrl + '/')) {
    config.publicUrl = 'https://lists.example.org'
    process.stdout.write(`PUBLIC_URL is not set: links use ${config.publicUrl} for this check\n\n`)
  }
  // Unsigned: with -L (no DNS) SpamAssassin cannot fetch the DKIM key, so a signature would only score as unverifiable.
  const settings = { ...mailSettings(config), dkim: undefined }
  let worst = -Infinity
  for (const language of Object.keys(LANGUAGES)) {
    for (const kind of MAIL_KIND_NAMES) {
      const report = await spamCheck(await rawMessage(sampleMail(settings, kind, { ...config, language })))
      worst = Math.max(worst, report.score)
      process.stdout.write(formatReport(`${kind} (${language})`, report) + '\n\n')
    }
  }
  process.stdout.write(worst <= 0 ? 'every template scores 0 or less\n' : `a template scores ${worst}: the target is 0 or less\n`)
  return worst <= 0 ? 0 : 1
}

main().then((code) => { process.exitCode = code }, (err: unknown) => {
  process.stderr.write(`mail:check failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 2
})
