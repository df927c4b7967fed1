// The export as Excel on Windows opens it without an import wizard: a UTF-8 byte order mark, without which Excel
// reads the file as the ANSI code page ("SiÃ¢n LlÅ·r" for "Siân Llŷr"), and CRLF line ends. The default export stays
// plain RFC 4180 as PostgreSQL writes it.
import { Transform } from 'node:stream'

const BOM = Buffer.from([0xef, 0xbb, 0xbf])
const QUOTE = 0x22
const LF = 0x0a
const CR = 0x0d

/**
 * Adds the BOM and turns each row's LF into CRLF. A line break inside a quoted field is part of the value and is
 * left alone: the quote state is followed across chunks (an escaped quote `""` toggles it twice).
 */
export function excelCsv (): Transform {
  let quoted = false
  let started = false
  return new Transform({
    transform (chunk: Buffer, _encoding, done) {
      const out: number[] = []
      for (const byte of chunk) {
        if (byte === QUOTE) quoted = !quoted
        else if (byte === LF && !quoted) out.push(CR)
        out.push(byte)
      }
      const body = Buffer.from(out)
      done(null, started ? body : (started = true, Buffer.concat([BOM, body])))
    },
    flush (done) {
      done(null, started ? null : BOM)
    }
  })
}
