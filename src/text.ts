// Rules for free text that travels into mail headers, pages, logs and CSV cells.

/**
 * Control characters: C0 (CR, LF, NUL, TAB …), DEL, C1, and the Unicode line and paragraph separators. None belongs in
 * an address, a name, a header value or a log line (OWASP ASVS 5.0 1.3.11: header injection).
 */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/** The text on one line: every run of control characters becomes one space. */
// eslint-disable-next-line no-control-regex
export const oneLine = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim()

/**
 * A UTF-16 surrogate without its pair: not a character, so it cannot be stored as text. JSON can carry one
 * ("\ud800"), and PostgreSQL refuses it inside a jsonb value.
 */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** The text with any lone surrogate replaced by U+FFFD, as encoding it to UTF-8 would. */
export const wellFormed = (v: string | undefined | null): string | null =>
  v === undefined || v === null ? null : v.replace(LONE_SURROGATE, '\ufffd')
