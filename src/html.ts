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
