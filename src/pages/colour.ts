// Colour contrast from WCAG 2.2 (SC 1.4.3, 1.4.11): the accent colour must stay readable as text on white and
// as white text on it, whatever a deployment configures.

/** #rgb or #rrggbb → [r, g, b] in 0..255, or undefined if it is not a hex colour. */
export function parseHex (value: string): [number, number, number] | undefined {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value.trim())
  if (!m) return undefined
  const hex = m[1].length === 3 ? m[1].split('').map((c) => c + c).join('') : m[1]
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number]
}

/** WCAG relative luminance. */
export function luminance ([r, g, b]: [number, number, number]): number {
  const lin = (c: number) => { const s = c / 255; return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4 }
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

export function contrastRatio (a: [number, number, number], b: [number, number, number]): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x)
  return (hi + 0.05) / (lo + 0.05)
}

/** WCAG 1.4.3 AA for normal-size text. */
export const MIN_TEXT_CONTRAST = 4.5
export const WHITE: [number, number, number] = [255, 255, 255]
