// Python's `decimal.Decimal`, kept as its canonical text.

/** At most 40 characters of `text` for an error message. */
function clip(text: string): string {
  return text.length <= 40 ? text : `${text.slice(0, 40)}…`
}

/**
 * The end of a run of ASCII digits with PEP 515 single underscores between them (`1_000`)
 * starting at `i`, or -1 when no digit is there. A hand-written scan: one pass, no backtracking.
 */
function digitRun(text: string, i: number): number {
  if (!isAsciiDigit(text.charCodeAt(i))) return -1
  let j = i + 1
  for (;;) {
    while (isAsciiDigit(text.charCodeAt(j))) j++
    if (text.charCodeAt(j) === 0x5f && isAsciiDigit(text.charCodeAt(j + 1))) j += 2
    else return j
  }
}

function isAsciiDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

/** `text` without its leading zeros. */
function stripZeros(text: string): string {
  let i = 0
  while (text.charCodeAt(i) === 0x30) i++
  return text.slice(i)
}

/**
 * The parts of what Python's `Decimal()` accepts: `[+-]`, digits with an optional point (or a
 * point and digits), an optional exponent; or Infinity / Inf / NaN / sNaN (with a payload) in
 * any case. Digits may have PEP 515 underscores. `null` when `text` is none of these.
 */
function scanDecimal(
  text: string,
):
  | { sign: string; special: 'Infinity' | 'NaN' | 'sNaN'; payload: string }
  | { sign: string; special: null; whole: string; fraction: string; exponent: string }
  | null {
  let i = 0
  const c = text.charCodeAt(0)
  const sign = c === 0x2d ? '-' : ''
  if (c === 0x2b || c === 0x2d) i = 1
  const lower = text.length - i <= 9 ? text.slice(i).toLowerCase() : ''
  if (lower === 'inf' || lower === 'infinity') return { sign, special: 'Infinity', payload: '' }
  const head = text.slice(i, i + 4).toLowerCase()
  const nan = head.startsWith('nan') ? 3 : head === 'snan' ? 4 : 0
  if (nan > 0) {
    const end = i + nan === text.length ? i + nan : digitRun(text, i + nan)
    if (end !== text.length) return null
    return { sign, special: nan === 4 ? 'sNaN' : 'NaN', payload: text.slice(i + nan) }
  }
  let whole = ''
  let fraction = ''
  const wholeEnd = digitRun(text, i)
  if (wholeEnd >= 0) {
    whole = text.slice(i, wholeEnd)
    i = wholeEnd
    if (text.charCodeAt(i) === 0x2e) {
      const fractionEnd = digitRun(text, i + 1)
      i++
      if (fractionEnd >= 0) {
        fraction = text.slice(i, fractionEnd)
        i = fractionEnd
      }
    }
  } else if (text.charCodeAt(i) === 0x2e) {
    const fractionEnd = digitRun(text, i + 1)
    if (fractionEnd < 0) return null
    fraction = text.slice(i + 1, fractionEnd)
    i = fractionEnd
  } else {
    return null
  }
  let exponent = '0'
  if ((text.charCodeAt(i) | 0x20) === 0x65) {
    const s = text.charCodeAt(i + 1)
    const digitsAt = s === 0x2b || s === 0x2d ? i + 2 : i + 1
    const exponentEnd = digitRun(text, digitsAt)
    if (exponentEnd < 0) return null
    exponent = text.slice(i + 1, exponentEnd)
    i = exponentEnd
  }
  if (i !== text.length) return null
  return { sign, special: null, whole, fraction, exponent }
}

/** Python's `str(Decimal(text))`: the canonical form (`'1.5e3'` → `'1.5E+3'`, `'.5'` → `'0.5'`). */
function normalizeDecimal(input: string): string {
  const parts = scanDecimal(input.trim())
  if (parts === null) throw new RangeError(`invalid decimal literal: ${clip(input)}`)
  const sign = parts.sign
  if (parts.special !== null) {
    if (parts.special === 'Infinity') return `${sign}Infinity`
    return `${sign}${parts.special}${stripZeros(parts.payload.replaceAll('_', ''))}`
  }
  const fraction = parts.fraction.replaceAll('_', '')
  const coefficient = stripZeros(`${parts.whole.replaceAll('_', '')}${fraction}`) || '0'
  const exponent = Number(parts.exponent.replaceAll('_', '')) - fraction.length
  if (!Number.isSafeInteger(exponent)) {
    throw new RangeError(`decimal exponent out of range: ${clip(input)}`)
  }
  // _pydecimal's Decimal.__str__ (scientific notation, capital E).
  const leftDigits = exponent + coefficient.length
  const dotPlace = exponent <= 0 && leftDigits > -6 ? leftDigits : 1
  let intPart: string
  let fracPart: string
  if (dotPlace <= 0) {
    intPart = '0'
    fracPart = `.${'0'.repeat(-dotPlace)}${coefficient}`
  } else if (dotPlace >= coefficient.length) {
    intPart = coefficient + '0'.repeat(dotPlace - coefficient.length)
    fracPart = ''
  } else {
    intPart = coefficient.slice(0, dotPlace)
    fracPart = `.${coefficient.slice(dotPlace)}`
  }
  const shift = leftDigits - dotPlace
  const exp = shift === 0 ? '' : `E${shift > 0 ? '+' : '-'}${Math.abs(shift)}`
  return `${sign}${intPart}${fracPart}${exp}`
}

/**
 * Python's `decimal.Decimal`, kept as its decimal text in Python's canonical `str()` form
 * (`'1.50'`, `'-1E+3'`, `'NaN'`), which is what Python pickles. No arithmetic: use a decimal
 * library on `value` if you need it.
 */
export class PyDecimal {
  /** The decimal text, as Python's `str(Decimal)` writes it. */
  readonly value: string

  /** Wraps decimal text, normalised as Python's `str(Decimal(text))`; throws when Python would. */
  constructor(value: string) {
    this.value = normalizeDecimal(String(value))
  }

  /** The nearest JS number (`NaN` for NaN and sNaN). */
  toNumber(): number {
    if (this.value.includes('NaN')) return Number.NaN
    return Number(this.value)
  }

  /** The decimal text. */
  toString(): string {
    return this.value
  }

  /** The decimal text, so that `JSON.stringify` keeps every digit. */
  toJSON(): string {
    return this.value
  }
}
