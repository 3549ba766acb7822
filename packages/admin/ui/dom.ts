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
 * In a grapheme that NFC changes, what makes it change: a character NFC replaces (U+2126 OHM
 * SIGN is U+03A9 to the eye; U+0958, a composition exclusion, is U+0915 U+093C) or, when none
 * does, a combining mark (`e` and U+0301 look as `é` does) or a Hangul vowel or final consonant
 * that joins the letter before it. With `marksOnly` (a name NFC changes across graphemes), each
 * of those.
 */
function uncomposedChars(grapheme: string, marksOnly = false): Set<number> {
  const chars = [...grapheme]
  const at = (test: (char: string, i: number) => boolean) =>
    new Set(chars.flatMap((char, i) => (test(char, i) ? [i] : [])))
  const replaced = at((char) => char.normalize('NFC') !== char)
  const marks = at((char) => /^[\p{M}\u1160-\u11ff]$/u.test(char))
  if (marksOnly) return new Set([...replaced, ...marks])
  if (replaced.size > 0) return replaced
  if (marks.size > 0) return marks
  // Whatever else NFC changes: all but its first character.
  return at((_, i) => i > 0)
}

/**
 * Scripts whose letters join or form conjuncts, where ZWNJ (U+200C) and ZWJ (U+200D) between two
 * letters change how they are drawn and are part of correct spelling (Persian `می‌خواهم`, a
 * Devanagari half form): there they are left alone. Between letters of other scripts (Latin
 * `a` U+200D `b`) they show as nothing, and are marked.
 */
const JOINING_SCRIPTS = [
  /\p{scx=Arabic}/u,
  /\p{scx=Syriac}/u,
  /\p{scx=Nko}/u,
  /\p{scx=Mongolian}/u,
  /\p{scx=Mandaic}/u,
  /\p{scx=Adlam}/u,
  /\p{scx=Hanifi_Rohingya}/u,
  /\p{scx=Devanagari}/u,
  /\p{scx=Bengali}/u,
  /\p{scx=Gurmukhi}/u,
  /\p{scx=Gujarati}/u,
  /\p{scx=Oriya}/u,
  /\p{scx=Tamil}/u,
  /\p{scx=Telugu}/u,
  /\p{scx=Kannada}/u,
  /\p{scx=Malayalam}/u,
  /\p{scx=Sinhala}/u,
  /\p{scx=Tibetan}/u,
  /\p{scx=Myanmar}/u,
  /\p{scx=Khmer}/u,
]

/** A letter or a mark (a vowel sign, a virama, a haraka). */
const LETTER = /^[\p{L}\p{M}]$/u

/** Whether a ZWNJ or ZWJ between `before` and `after` joins two letters of a joining script. */
function joinsLetters(before: string | undefined, after: string | undefined): boolean {
  if (before === undefined || after === undefined) return false
  if (!LETTER.test(before) || !LETTER.test(after)) return false
  return JOINING_SCRIPTS.some((script) => script.test(before) && script.test(after))
}

/**
 * A whole RGI emoji (`❤️` with its variation selector, the ZWJ sequence `👩‍👩‍👧‍👦`, a flag, a
 * keycap): `\p{RGI_Emoji}` needs the `v` flag (ES2024, which the UI's ES2022 build does not
 * write: built at run time), with a stricter pattern where the browser has no `v` (Chromium
 * before 112): a pictograph with U+FE0F or a skin tone, joined by ZWJ to others, or a keycap.
 */
const EMOJI = ((): RegExp => {
  try {
    // biome-ignore lint/complexity/useRegexLiterals: the `v` flag is past the build's target.
    return new RegExp('^\\p{RGI_Emoji}$', 'v')
  } catch {
    return /^(?:[#*0-9]\ufe0f\u20e3|\p{ExtPict}(?:\ufe0f|\p{EMod})?(?:\u200d\p{ExtPict}(?:\ufe0f|\p{EMod})?)*)$/u
  }
})()

/**
 * Splits text into graphemes (what reads as one character); without `Intl.Segmenter`, into code
 * points.
 */
const graphemes = ((): ((text: string) => string[]) => {
  if (typeof Intl.Segmenter !== 'function') return (text) => [...text]
  const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' })
  return (text) => Array.from(segmenter.segment(text), (part) => part.segment)
})()

/**
 * A key's name as text, each character in it that would show as nothing, as a blank or turn the
 * text around (U+200B, U+202E, U+00A0…), and in a name not in composed form (NFC) what NFC would
 * change (`cafe` + U+0301, which looks as `café` does), shown as its code point, marked: two names
 * that differ only by one look apart. What correct writing needs is left alone: a whole RGI emoji
 * (U+FE0F and ZWJ in `❤️`, `👩‍👩‍👧‍👦`), and ZWNJ or ZWJ between letters of a script they join.
 */
export function visibleName(name: string): Child[] {
  const composed = name.normalize('NFC') === name
  if (composed && !HIDDEN.test(name)) return [name]
  const parts: Child[] = []
  let plain = ''
  const mark = (char: string, why: string) => {
    if (plain !== '') parts.push(plain)
    plain = ''
    const code = `U+${(char.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`
    parts.push(h('span', { class: 'hidden-char', title: `${code}: ${why}` }, code))
  }
  const split = graphemes(name)
  // NFC changes a name within its graphemes (a combining mark joins the grapheme of its letter);
  // should it change one of no changed grapheme, every combining mark of it is marked.
  const anyChanged = !composed && split.some((grapheme) => grapheme.normalize('NFC') !== grapheme)
  let last: string | undefined
  split.forEach((grapheme, g) => {
    if (HIDDEN.test(grapheme) && EMOJI.test(grapheme)) {
      plain += grapheme
      last = undefined
      return
    }
    const chars = [...grapheme]
    const uncomposed = composed
      ? new Set<number>()
      : !anyChanged
        ? uncomposedChars(grapheme, true)
        : grapheme.normalize('NFC') !== grapheme
          ? uncomposedChars(grapheme)
          : new Set<number>()
    chars.forEach((char, i) => {
      const before = i > 0 ? chars[i - 1] : last
      const after = i + 1 < chars.length ? chars[i + 1] : [...(split[g + 1] ?? '')][0]
      const hidden =
        HIDDEN.test(char) &&
        !((char === '\u200c' || char === '\u200d') && joinsLetters(before, after))
      if (hidden) mark(char, 'a character that shows as nothing or as a blank')
      else if (uncomposed.has(i)) mark(char, 'a character of a name not in composed form (NFC)')
      else plain += char
    })
    last = chars[chars.length - 1]
  })
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
