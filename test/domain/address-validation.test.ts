// Address validation: what RFC 5321/5322 and real providers accept, lengths checked apart from syntax, IDNs stored as
// their A-label, letter case, no control characters; a table of valid and invalid addresses from public validator test
// suites, each row naming its source, run against parseEmail; plus the same rules seen over HTTP.
import t from 'tap'
import { parseEmail } from '../../src/domain/email.js'
import { buildTestApp, json, staff } from '../helpers/app.js'
import { csvRecords } from '../helpers/flow.js'

// Sources:
//   PEV  = JoshData/python-email-validator tests/test_syntax.py
//   ISE  = Dominic Sayers' isemail test set (tests.xml, test ids #n)
//   VJS  = validatorjs/validator.js test/validators.test.js (isEmail)
//   RFC  = RFC 5321 §4.5.3.1 limits (local part 64 octets, address 254)
// `policy` marks rows where Joinlist is deliberately stricter than the RFC grammar (see README "Address policy").
type Row = [input: string, normalized: string | null, source: string, policy?: string]

const a = (n: number) => 'a'.repeat(n)
const rows: Row[] = [
  // --- valid ---
  ['Abc@example.tld', 'abc@example.tld', 'PEV test_email_valid'],
  ['Abc.123@test-example.com', 'abc.123@test-example.com', 'PEV test_email_valid'],
  ['user+mailbox/department=shipping@example.tld', 'user+mailbox/department=shipping@example.tld', 'PEV test_email_valid'],
  ["!#$%&'*+-/=?^_`.{|}~@example.tld", "!#$%&'*+-/=?^_`.{|}~@example.tld", 'PEV test_email_valid'],
  ['jeff@臺網中心.tw', 'jeff@xn--fiqq24b10vi0d.tw', 'PEV test_email_valid (IDN → A-label)'],
  ['test@iana.org', 'test@iana.org', 'ISE #8'],
  ['test@nominet.org.uk', 'test@nominet.org.uk', 'ISE #9'],
  ['test@about.museum', 'test@about.museum', 'ISE #10'],
  ['a@iana.org', 'a@iana.org', 'ISE #11'],
  ['test@e.com', 'test@e.com', 'ISE #12'],
  ['test.test@iana.org', 'test.test@iana.org', 'ISE #14'],
  ['123@iana.org', '123@iana.org', 'ISE #21'],
  ['test@123.com', 'test@123.com', 'ISE #22'],
  [`${'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghiklm'}@iana.org`, 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghiklm@iana.org', 'ISE #25 (local part of 64)'],
  ['test@mason-dixon.com', 'test@mason-dixon.com', 'ISE #29'],
  ['test@c--n.com', 'test@c--n.com', 'ISE #32'],
  ['test@iana.co-uk', 'test@iana.co-uk', 'ISE #33 (syntax valid; DNS is not checked)'],
  ['foo@bar.com', 'foo@bar.com', 'VJS isEmail valid'],
  ['x@x.au', 'x@x.au', 'VJS isEmail valid'],
  ['foo@bar.com.au', 'foo@bar.com.au', 'VJS isEmail valid'],
  ['foo+bar@bar.com', 'foo+bar@bar.com', 'VJS isEmail valid'],
  ['test123+ext@gmail.com', 'test123+ext@gmail.com', 'VJS isEmail valid'],
  ['some.name.midd.leNa.me.and.locality+extension@GoogleMail.com', 'some.name.midd.lena.me.and.locality+extension@googlemail.com', 'VJS isEmail valid'],
  ['test@1337.com', 'test@1337.com', 'VJS isEmail valid'],
  ['hans@m端ller.com', 'hans@xn--mller-es7m.com', 'VJS isEmail valid (IDN domain)'],
  ['a@Bücher.example', 'a@xn--bcher-kva.example', 'IDN stored as its A-label, RFC 5891 (upper case typed)'],
  ['a@xn--bcher-kva.example', 'a@xn--bcher-kva.example', 'IDN typed as its A-label, RFC 5891'],
  ['A@Example.COM', 'a@example.com', 'RFC 5321 §2.4 (domain letter case)', 'the local part compared without letter case too'],
  ['test@example.xn--p1ai', 'test@example.xn--p1ai', 'RFC 5890 (a punycode top-level domain)'],
  ['  spaced@example.org  ', 'spaced@example.org', 'VJS (surrounding spaces of a paste are trimmed)'],
  [`${a(64)}@${a(63)}.${a(63)}.${a(57)}.com`, `${a(64)}@${a(63)}.${a(63)}.${a(57)}.com`, 'RFC 5321 (254 in all)'],

  // --- invalid ---
  ['', null, 'ISE #1'],
  ['test', null, 'ISE #2'],
  ['@', null, 'ISE #3'],
  ['test@', null, 'ISE #4'],
  ['test@io', null, 'ISE #5', 'no dotless domains'],
  ['@io', null, 'ISE #6'],
  ['@iana.org', null, 'ISE #7'],
  ['test@iana.a', null, 'ISE #13', 'top-level domain of one letter'],
  ['.test@iana.org', null, 'ISE #15'],
  ['test.@iana.org', null, 'ISE #16'],
  ['test..iana.org', null, 'ISE #17'],
  ['test_exa-mple.com', null, 'ISE #18'],
  ['test\\@test@iana.org', null, 'ISE #20'],
  ['test@iana.123', null, 'ISE #23'],
  ['test@255.255.255.255', null, 'ISE #24'],
  [`${'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghiklmn'}@iana.org`, null, 'ISE #26 (local part of 65)'],
  ['test@abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghiklm.com', null, 'ISE #28 (label of 64)'],
  ['test@-iana.org', null, 'ISE #30'],
  ['test@iana-.com', null, 'ISE #31'],
  ['test@.iana.org', null, 'ISE #34'],
  ['test@iana.org.', null, 'ISE #35'],
  ['test@iana..com', null, 'ISE #36'],
  ['"test"@iana.org', null, 'ISE #42', 'no quoted local parts'],
  ['"test@iana.org', null, 'ISE #50'],
  ['test"text"@iana.org', null, 'ISE #52'],
  ['my@localhost', null, 'PEV test_email_invalid_syntax'],
  ['my@.leadingdot.com', null, 'PEV test_email_invalid_syntax'],
  ['my@．leadingfwdot.com', null, 'PEV test_email_invalid_syntax'],
  ['my@twodots..com', null, 'PEV test_email_invalid_syntax'],
  ['my@trailingdot.com.', null, 'PEV test_email_invalid_syntax'],
  ['me@-leadingdash', null, 'PEV test_email_invalid_syntax'],
  ['my@baddash.-.com', null, 'PEV test_email_invalid_syntax'],
  ['my@baddash.b-.com', null, 'PEV test_email_invalid_syntax'],
  ['my@example.com\n', null, 'PEV test_email_invalid_syntax (trailing LF)'],
  ['my@example\n.com', null, 'PEV test_email_invalid_syntax'],
  ['me@x!', null, 'PEV test_email_invalid_syntax'],
  ['.leadingdot@domain.com', null, 'PEV test_email_invalid_syntax'],
  ['twodots..here@domain.com', null, 'PEV test_email_invalid_syntax'],
  ['me@⒈wouldbeinvalid.com', null, 'PEV test_email_invalid_syntax (U+2488 maps to "1.")'],
  ['white space@test', null, 'PEV test_email_invalid_syntax'],
  ['test@white space', null, 'PEV test_email_invalid_syntax'],
  ['\nmy@example.com', null, 'PEV test_email_invalid_syntax (leading LF)'],
  ['m\ny@example.com', null, 'PEV test_email_invalid_syntax'],
  ['bad"quotes"@example.com', null, 'PEV test_email_invalid_syntax'],
  ['11111111112222222222333333333344444444445555555555666666666677777@example.com', null, 'PEV test_email_invalid_syntax (65 before @)'],
  ['ñoñó@example.tld', null, 'PEV test_email_valid_intl_local_part', 'no SMTPUTF8 local parts'],
  ['葉士豪@臺網中心.tw', null, 'PEV test_email_valid_intl_local_part', 'no SMTPUTF8 local parts'],
  ['"quoted with space"@example.com', null, 'PEV test_email_valid_only_if_quoted_local_part', 'no quoted local parts'],
  ['me@[127.0.0.1]', null, 'PEV test_domain_literal', 'no address literals'],
  ['invalidemail@', null, 'VJS isEmail invalid'],
  ['invalid.com', null, 'VJS isEmail invalid'],
  ['foo@bar.com.', null, 'VJS isEmail invalid'],
  ['foo@_bar.com', null, 'VJS isEmail invalid'],
  ['somename@ｇｍａｉｌ.com', null, 'VJS isEmail invalid (full-width letters)'],
  ['z@co.c', null, 'VJS isEmail invalid'],
  [`${a(64)}@${a(251)}.com`, null, 'VJS isEmail invalid'],
  [`${a(65)}@${a(250)}.com`, null, 'VJS isEmail invalid'],
  [`${a(64)}@${a(64)}.com`, null, 'VJS isEmail invalid'],
  [`${a(64)}@${a(63)}.${a(63)}.${a(63)}.${a(58)}.com`, null, 'VJS isEmail invalid (over 254)'],
  [`${a(64)}@${a(63)}.${a(63)}.${a(58)}.com`, null, 'RFC 5321 (255 in all)'],
  ['test12@invalid.co\u3000m', null, 'VJS isEmail invalid (ideographic space)'],
  ['test123+invalid! sub_address@gmail.com', null, 'VJS isEmail invalid'],
  ['ends.with.dot.@gmail.com', null, 'VJS isEmail invalid'],
  ['wrong()[]",:;<>@@gmail.com', null, 'VJS isEmail invalid'],
  ['username@domain.com\ufffd', null, 'VJS isEmail invalid'],
  ['username@domain.com©', null, 'VJS isEmail invalid'],
  ['nbsp\u00a0test@test.com', null, 'VJS isEmail invalid'],
  ['nbsp_test@test.co\u00a0m', null, 'VJS isEmail invalid'],
  ['"a\r\nBcc: x"@example.com', null, 'header injection (CR LF, even inside quotes)'],
  ['a\u0000b@example.com', null, 'control character (NUL)'],
  ['ab@exa\u007fmple.com', null, 'control character (DEL)'],
  ['ab@example.com\u2028', null, 'control character (line separator)']
]

t.test('the address table from public validator suites gives the expected verdict for every row', async (t) => {
  t.ok(rows.length >= 60, `${rows.length} rows`)
  for (const [input, normalized, source, policy] of rows) {
    const r = parseEmail(input)
    const label = `${JSON.stringify(input).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`).slice(0, 80)} (${source}${policy ? `; policy: ${policy}` : ''})`
    if (normalized === null) {
      t.equal(r.ok, false, `invalid: ${label}`)
      if (!r.ok) t.ok(r.message.length > 10, 'with a message that says what is wrong')
    } else {
      t.same(r.ok ? r.normalized : r.message, normalized, `valid: ${label}`)
    }
  }
})

t.test('lengths are checked apart from syntax: 64/65 before the @, 254/255 in all', async (t) => {
  const local64 = `${a(64)}@example.com`
  t.equal(parseEmail(local64).ok, true)
  const r65 = parseEmail(`${a(65)}@example.com`)
  t.equal(r65.ok, false)
  t.match(!r65.ok && r65.message, /before the @ is too long/)
  const total254 = `${a(60)}@${a(63)}.${a(63)}.${a(61)}.com`
  t.equal(total254.length, 254)
  t.equal(parseEmail(total254).ok, true)
  const r255 = parseEmail(`${a(61)}@${a(63)}.${a(63)}.${a(61)}.com`)
  t.equal(r255.ok, false)
  t.match(!r255.ok && r255.message, /too long \(at most 254/)
  // An IDN counts in its ASCII form: 'ü' is short typed, long in punycode.
  const typed = `${a(60)}@${'üa'.repeat(28)}.${a(63)}.${a(63)}.com`
  t.ok(typed.length <= 254, `typed ${typed.length}`)
  const idn = parseEmail(typed)
  t.equal(idn.ok, false, 'the punycode form is what must fit')
})

t.test('over HTTP: IDN and letter-case variants are one subscriber, and CR/LF in a quoted address is a 400', async (t) => {
  const { app, smtp } = await buildTestApp(t)
  for (const email of ['a@Bücher.example', 'a@xn--bcher-kva.example', 'A@BÜCHER.example']) {
    const res = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email }) })
    t.equal(res.statusCode, 202, email)
  }
  for (const email of ['A@Example.COM', 'a@example.com']) {
    t.equal((await app.inject({ method: 'POST', url: '/subscribe', ...json({ email }) })).statusCode, 202, email)
  }
  const jeff = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: 'jeff@臺網中心.tw' }) })
  t.equal(jeff.statusCode, 202)
  const rows = csvRecords((await app.inject({ url: '/admin/subscribers.csv?status=all', headers: staff })).body)
  t.equal(rows.length, 3, 'Bücher ×3 → one, Example ×2 → one, plus jeff')
  await smtp.waitFor(3)
  t.same(rows.map((r) => r.email).sort(), ['A@Example.COM', 'a@xn--bcher-kva.example', 'jeff@xn--fiqq24b10vi0d.tw'],
    'an IDN is stored in its ASCII form; an ASCII address as typed')
  // smtp-server shows envelope domains decoded, so read the To: header the mail was written with.
  const to = smtp.mails.map((m) => /^To: (.*)$/im.exec(m.raw)![1]).sort()
  t.same(to, ['A@example.com', 'a@xn--bcher-kva.example', 'jeff@xn--fiqq24b10vi0d.tw'], 'and mailed in that form')

  const crlf = await app.inject({ method: 'POST', url: '/subscribe', ...json({ email: '"a\r\nBcc: x"@example.com' }) })
  t.equal(crlf.statusCode, 400)
  t.match(crlf.json(), { error: 'invalid_field', field: 'email', message: /control character/ })
})
