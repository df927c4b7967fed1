// Spam-filter check: each template, rendered as it goes out, scores 0 or less in Debian's SpamAssassin (local tests).
import t from 'tap'
import { mailSettings } from '../../src/mail/messages.js'
import { MAIL_KIND_NAMES, rawMessage, sampleMail } from '../../src/mail/samples.js'
import { formatReport, parseReport, spamAssassinAvailable, spamCheck } from '../../src/mail/spamcheck.js'
import { LANGUAGES } from '../../src/messages/index.js'
import { testConfig } from '../helpers/app.js'

const skip = !await spamAssassinAvailable() && 'spamassassin is not installed (apt-get install -y spamassassin): the spam score is not checked'

t.test('every template scores 0 or less in SpamAssassin, with no rule about headers, MIME or HTML-only', { skip }, async (t) => {
  const config = testConfig()
  const settings = mailSettings(config)
  for (const language of Object.keys(LANGUAGES)) {
    for (const kind of MAIL_KIND_NAMES) {
      const report = await spamCheck(await rawMessage(sampleMail(settings, kind, { ...config, language })))
      t.comment(formatReport(`${kind} (${language})`, report))
      t.ok(report.score <= 0, `${kind} (${language}): score ${report.score} ≤ 0`)
      // Informational rules only: the message was not relayed in the test, and it has an HTML part on purpose.
      const unexpected = report.rules.filter((r) => !['NO_RECEIVED', 'NO_RELAYS', 'HTML_MESSAGE'].includes(r.rule))
      t.same(unexpected, [], `${kind} (${language}): no other rule hit`)
    }
  }
})

t.test('a missing spamassassin command is reported as unavailable', async (t) => {
  t.equal(await spamAssassinAvailable('/nonexistent/spamassassin'), false)
  await t.rejects(spamCheck(Buffer.from('x'), '/nonexistent/spamassassin'))
})

t.test('the report parser reads exact scores from X-Spam-Tests and descriptions from the table', async (t) => {
  const output = `X-Spam-Status: No, score=-0.0 required=5.0 tests=HTML_MESSAGE,NO_RECEIVED,
\tNO_RELAYS autolearn=disabled version=4.0.1
X-Spam-Tests: HTML_MESSAGE=0.001,NO_RECEIVED=-0.001,NO_RELAYS=-0.001,
\tLONG_RULE=0.5
Subject: x

Content analysis details:   (-0.0 points, 5.0 required)

 pts rule name              description
---- ---------------------- --------------------------------------------------
-0.0 NO_RECEIVED            Informational: message has no Received headers
 0.0 HTML_MESSAGE           BODY: HTML included in message
 0.5 LONG_RULE              A description that goes on
                            over two lines

`
  const report = parseReport(output)
  t.equal(report.score, 0.499)
  t.equal(report.required, 5)
  t.same(report.rules.map((r) => [r.rule, r.points]), [['NO_RECEIVED', -0.001], ['NO_RELAYS', -0.001], ['HTML_MESSAGE', 0.001], ['LONG_RULE', 0.5]])
  t.equal(report.rules[3].description, 'A description that goes on over two lines')
  t.same(parseReport('X-Spam-Status: No, score=0.0 required=5.0 tests=none\nX-Spam-Tests: none\n').rules, [])
  t.throws(() => parseReport('Subject: no report'), /no X-Spam-Status/)
})
