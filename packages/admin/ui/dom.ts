// Building the page: elements made with createElement and filled with text nodes only. No
// innerHTML anywhere, so a value read from Redis (`<script>…`) is shown as the text it is.

type Child = Node | string | number | null | undefined | false
type Attributes = Record<string, string | number | boolean | undefined | ((event: Event) => void)>

/** An element with attributes (`on…` functions become listeners) and children (strings as text). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue
    if (typeof value === 'function') {
      element.addEventListener(name.replace(/^on/, '').toLowerCase(), value)
    } else if (name === 'value' && 'value' in element) {
      ;(element as HTMLInputElement).value = String(value)
    } else {
      element.setAttribute(name, value === true ? '' : String(value))
    }
  }
  append(element, ...children)
  return element
}

/** Appends children, strings as text nodes. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)))
  }
}

/** Removes every child of `element`. */
export function clear(element: Element): void {
  while (element.firstChild !== null) element.removeChild(element.firstChild)
}

const SVG_NS = 'http://www.w3.org/2000/svg'

/** An SVG element with attributes. */
export function svg(
  tag: string,
  attributes: Record<string, string | number> = {},
  ...children: Child[]
): SVGElement {
  const element = document.createElementNS(SVG_NS, tag)
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value))
  append(element, ...children)
  return element as SVGElement
}

/**
 * Characters that show as nothing, as a blank, or reorder the text after them: controls, format
 * characters (zero-width, bidi), line and paragraph separators, default-ignorable code points
 * (variation selectors U+FE0F and U+E0100, the combining grapheme joiner U+034F, the Hangul
 * fillers U+3164 and U+115F…), the blank Braille pattern U+2800, and every space but U+0020
 * (U+00A0 looks as it does).
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2028\u2029\u2800]|[^\P{Zs}\u0020]/u

/**
 * In a name that is not in composed form (NFC), what makes it so: a combining mark (`e` and
 * U+0301 look as `é` does), a Hangul vowel or final consonant that joins the letter before it,
 * or a character NFC replaces (U+2126 OHM SIGN is U+03A9 to the eye).
 */
function uncomposed(char: string): boolean {
  return /^[\p{M}\u1160-\u11ff]$/u.test(char) || char.normalize('NFC') !== char
}

/**
 * A key's name as text, each character in it that would show as nothing, as a blank or turn the
 * text around (U+200B, U+202E, U+00A0…), and each combining mark of a name not in composed form
 * (`cafe` + U+0301, which looks as `café` does), shown as its code point, marked: two names that
 * differ only by one look apart.
 */
export function visibleName(name: string): Child[] {
  const composed = name.normalize('NFC') === name
  if (composed && !HIDDEN.test(name)) return [name]
  const parts: Child[] = []
  let plain = ''
  for (const char of name) {
    const hidden = HIDDEN.test(char)
    if (!hidden && (composed || !uncomposed(char))) {
      plain += char
      continue
    }
    if (plain !== '') parts.push(plain)
    plain = ''
    const code = `U+${(char.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`
    const why = hidden
      ? 'a character that shows as nothing or as a blank'
      : 'a character of a name not in composed form (NFC)'
    parts.push(h('span', { class: 'hidden-char', title: `${code}: ${why}` }, code))
  }
  if (plain !== '') parts.push(plain)
  return parts
}

/** A small label of a type (`tuple`, `datetime`…); `py` marks types JSON does not have. */
export function badge(text: string, kind = ''): HTMLElement {
  return h('span', { class: `badge ${kind}`.trim() }, text)
}

/** Bytes in a readable unit. */
export function bytes(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '–'
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = n / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}

/** Seconds to live, readable: `no expiry`, `42 s`, `3 h 5 min`. */
export function ttl(seconds: number | null): string {
  if (seconds === null) return 'no expiry'
  if (seconds < 60) return `${Math.round(seconds * 10) / 10} s`
  const s = Math.round(seconds)
  const d = Math.floor(s / 86400)
  const hours = Math.floor((s % 86400) / 3600)
  const min = Math.floor((s % 3600) / 60)
  if (d > 0) return `${d} d ${hours} h`
  if (hours > 0) return `${hours} h ${min} min`
  return `${min} min ${s % 60} s`
}

/** A message box: `error`, `ok` or `info`. */
export function notice(kind: 'error' | 'ok' | 'info', ...children: Child[]): HTMLElement {
  return h(
    'div',
    { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    ...children,
  )
}
