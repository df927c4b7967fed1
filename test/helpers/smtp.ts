// A real SMTP server in the test process that records every mail it accepts: the sink of the tests and of the
// fault drills. It can refuse messages (a reply code per message, or per recipient and attempt), answer slowly,
// and be stopped and started again on the same port, as a mail server that goes away and comes back.
import type { AddressInfo } from 'node:net'
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server'
import { simpleParser, type ParsedMail } from 'mailparser'
import type { Test } from 'tap'
import { waitUntil } from './wait.js'

export interface ReceivedMail {
  parsed: ParsedMail
  raw: string
  envelope: { from: string, to: string[] }
}

export interface SmtpSinkOptions {
  /** A port to listen on (e.g. one where nothing listens yet); 0 or unset picks a free one. */
  port?: number
  /** Milliseconds the server takes over each message before it answers: a slow mail server. */
  delayMs?: number
  /** A reply code for a message to this recipient on its n-th attempt (e.g. 550), or undefined to accept it. */
  refuse?: (to: string, attempt: number) => number | undefined
}

export interface SmtpSink {
  readonly port: number
  readonly url: string
  mails: ReceivedMail[]
  /** Resolves once at least n mails arrived (or rejects after timeoutMs). */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedMail[]>
  /** While set, every message gets this SMTP reply code (e.g. 451 or 550). */
  failWith: number | undefined
  /** Reply codes for the next messages, one each (e.g. [451, 451]); then messages are accepted again. */
  failNext: number[]
  /** While set, refusals carry this reply text (e.g. `5.1.1 <jane@example.org>: Recipient address rejected`). */
  failText: string | undefined
  /** Every message the sink refused, with the code it got. */
  refused: Array<{ messageId: string, to: string, code: number }>
  /** Every AUTH a client sent (the sink accepts any credentials, also without TLS). */
  auths: Array<{ username?: string, password?: string }>
  /** How many messages each recipient was sent, accepted or refused. */
  attempts: Map<string, number>
  /** The options it was started with; a test may change them while it runs (e.g. delayMs). */
  opts: SmtpSinkOptions
  /** Stops listening and drops open connections: the mail server is down. */
  stop(): Promise<void>
  /** Listens again on the same port. */
  start(): Promise<void>
}

/** Starts a sink, stopped at teardown. */
export async function startSmtp (t: Pick<Test, 'teardown'>, opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  let server: SMTPServer | undefined
  let port = opts.port ?? 0
  const sink: SmtpSink = {
    get port () { return port },
    get url () { return `smtp://127.0.0.1:${port}` },
    mails: [],
    failWith: undefined,
    failNext: [],
    failText: undefined,
    refused: [],
    auths: [],
    attempts: new Map(),
    opts,
    waitFor: (n, timeoutMs = 10_000) => waitUntil(() => sink.mails.length >= n, timeoutMs,
      () => `expected ${n} mails, got ${sink.mails.length}`).then(() => sink.mails),
    stop: async () => {
      const s = server
      server = undefined
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
    },
    start: async () => {
      server = new SMTPServer({
        authOptional: true,
        // smtp-server's bundled STARTTLS certificate has expired: the sink speaks plain SMTP.
        disabledCommands: ['STARTTLS'],
        allowInsecureAuth: true,
        logger: false,
        onAuth (auth, _session, callback) {
          sink.auths.push({ username: auth.username, password: auth.password ?? undefined })
          callback(null, { user: auth.username })
        },
        // Once stopped, connections still open (the app's pooled ones) are dropped at once, as by a server going down.
        closeTimeout: 50,
        onData: (stream, session, callback) => { receive(stream, session, callback).catch(callback) }
      })
      // A client killed mid-session (the drills' kill -9) resets its connection: not a failure of the sink.
      server.on('error', () => {})
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', () => resolve()))
      port = (server.server.address() as AddressInfo).port
    }
  }

  async function receive (stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null) => void) {
    const chunks: Buffer[] = []
    try {
      for await (const c of stream) chunks.push(c as Buffer)
    } catch (err) {
      // The client died mid-message: nothing was delivered.
      return callback(err as Error)
    }
    const raw = Buffer.concat(chunks).toString('utf8')
    const to = session.envelope.rcptTo.map((r) => r.address)
    const attempt = (sink.attempts.get(to[0]) ?? 0) + 1
    sink.attempts.set(to[0], attempt)
    // A slow mail server is the fault itself here: the time is what the drill is about.
    if (sink.opts.delayMs) await new Promise((resolve) => setTimeout(resolve, sink.opts.delayMs))
    const code = sink.failWith ?? sink.failNext.shift() ?? sink.opts.refuse?.(to[0], attempt)
    if (code) {
      sink.refused.push({ messageId: /^Message-ID:\s*(<[^>]+>)/im.exec(raw)?.[1] ?? '', to: to[0], code })
      return callback(Object.assign(new Error(sink.failText ?? `test sink refuses with ${code}`), { responseCode: code }))
    }
    // Recorded before the 250 goes out: like a real MTA, the mail counts as delivered even if the client vanishes
    // before it reads the answer.
    sink.mails.push({
      raw,
      parsed: await simpleParser(raw),
      envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to }
    })
    callback()
  }

  await sink.start()
  t.teardown(() => sink.stop())
  return sink
}

/** Mails the sink received for this address (envelope recipient, compared case-insensitively). */
export function mailsTo (smtp: SmtpSink, address: string): ReceivedMail[] {
  const want = address.toLowerCase()
  return smtp.mails.filter((m) => m.envelope.to.some((to) => to.toLowerCase() === want))
}

/** Waits for the n-th mail to this address. */
export async function waitForMailTo (smtp: SmtpSink, address: string, n = 1): Promise<ReceivedMail> {
  await waitUntil(() => mailsTo(smtp, address).length >= n, 10_000,
    () => `expected ${n} mails to ${address}, got ${mailsTo(smtp, address).length}`)
  return mailsTo(smtp, address)[n - 1]
}
