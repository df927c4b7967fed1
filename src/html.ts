// A tiny HTML template helper: every interpolated value is escaped unless it is already Html.
import escapeHtml from 'escape-html'

export class Html {
  constructor (readonly value: string) {}
  toString (): string { return this.value }
}

type Value = Html | string | number | false | null | undefined | Html[]

const render = (v: Value): string => {
  if (v === false || v === null || v === undefined) return ''
  if (Array.isArray(v)) return v.map(render).join('')
  if (v instanceof Html) return v.value
  return escapeHtml(String(v))
}

/** Marks trusted markup (our own CSS or HTML), so it is not escaped. Never pass user input. */
export const raw = (value: string): Html => new Html(value)

export function html (strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]
  return new Html(out)
}

/** The frame of an HTML mail: inline styles only, no external images (renders in common mail clients). */
export function layoutMail (listName: string, body: Html): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${listName}</title></head>
<body style="margin:0;padding:24px;background:#ffffff;color:#1a1a1a;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5">
<div style="max-width:560px;margin:0 auto">
<p style="font-size:18px;font-weight:bold;margin:0 0 16px">${listName}</p>
${body}
</div></body></html>`.value
}
