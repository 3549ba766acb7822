// The x87 80-bit `long double` that Redis 7.0 (on x86-64) computes `INCRBYFLOAT` and
// `HINCRBYFLOAT` in: parsed as `string2ld` reads an argument (`strtold`, whole), added with one
// rounding, and printed as `ld2string` prints it (`%.17Lf`, trailing zeros and `.` dropped, `-0`
// as `0`). Exact, with bigints: a 64-bit significand, exponents down to 2^-16445 (subnormals) and
// up to 2^16384 (past it, infinity), rounded to nearest, ties to even.

/** A finite long double, `(-1)^negative × significand × 2^exponent`, or an infinity. */
export type LongDouble =
  | { readonly negative: boolean; readonly significand: bigint; readonly exponent: number }
  | { readonly negative: boolean; readonly infinite: true }

/** +0, what a missing key or field counts as. */
export const ZERO: LongDouble = { negative: false, significand: 0n, exponent: 0 }

const BITS = 64
const TOP = 1n << BigInt(BITS)
/** The exponent of the least significant bit of the smallest subnormal. */
const MIN_EXPONENT = -16445
/** Past `2^MAX_BINARY`, a value is infinite. */
const MAX_BINARY = 16384
/** `string2ld` refuses arguments this long or longer (Redis's `MAX_LONG_DOUBLE_CHARS`). */
const MAX_CHARS = 5 * 1024

function isFiniteLd(
  x: LongDouble,
): x is { negative: boolean; significand: bigint; exponent: number } {
  return !('infinite' in x)
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length
}

/** `n / d` rounded to the nearest integer, ties to even (`n`, `d` positive). */
function divideRounded(n: bigint, d: bigint): bigint {
  const q = n / d
  const twice = (n - q * d) * 2n
  if (twice > d || (twice === d && (q & 1n) === 1n)) return q + 1n
  return q
}

/** The long double nearest to `±numerator / denominator` (both non-negative). */
function round(negative: boolean, numerator: bigint, denominator: bigint): LongDouble {
  if (numerator === 0n) return { negative, significand: 0n, exponent: 0 }
  // The exponent that leaves 64 bits before the point (one more or less, settled below).
  let exponent = bitLength(numerator) - bitLength(denominator) - BITS
  if (exponent < MIN_EXPONENT) exponent = MIN_EXPONENT
  for (;;) {
    const n = exponent < 0 ? numerator << BigInt(-exponent) : numerator
    const d = exponent > 0 ? denominator << BigInt(exponent) : denominator
    if (n / d >= TOP) {
      exponent++
      continue
    }
    let significand = divideRounded(n, d)
    if (significand === TOP) {
      significand >>= 1n
      exponent++
    }
    if (bitLength(significand) + exponent > MAX_BINARY) return { negative, infinite: true }
    return { negative, significand, exponent }
  }
}

const DECIMAL = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/
const INFINITE = /^([+-]?)inf(?:inity)?$/i

/**
 * An argument as Redis's `string2ld` reads it: `strtold` over the whole string, no leading
 * space, at most 5119 characters; NaN, overflow and underflow to zero refused (`undefined`).
 * Infinities (`inf`, `infinity`) are read.
 */
export function parseLongDouble(text: string): LongDouble | undefined {
  if (text.length === 0 || text.length >= MAX_CHARS) return undefined
  const inf = INFINITE.exec(text)
  if (inf !== null) return { negative: inf[1] === '-', infinite: true }
  const hex = HEX.exec(text)
  const match = hex ?? DECIMAL.exec(text)
  if (match === null) return undefined
  const [, sign, whole = '', fraction = '', power = '0'] = match
  if (whole === '' && fraction === '') return undefined
  const negative = sign === '-'
  const digits = BigInt(hex === null ? `${whole}${fraction}` || '0' : `0x${whole}${fraction}`)
  if (digits === 0n) return { negative, significand: 0n, exponent: 0 }
  // Exponents far past the range are clamped (the value is infinite or zero either way), so that
  // no huge power is ever computed.
  const given = Math.max(-1e6, Math.min(1e6, Number(power)))
  let value: LongDouble
  if (hex !== null) {
    const exponent = given - 4 * fraction.length
    value =
      exponent >= 0
        ? round(negative, digits << BigInt(Math.min(exponent, 20000)), 1n)
        : round(negative, digits, 1n << BigInt(Math.min(-exponent, 40000)))
  } else {
    const exponent = given - fraction.length
    const magnitude = exponent + digits.toString().length
    if (magnitude > 4940) return undefined // past 1.19e4932: overflow
    if (magnitude < -4960) return undefined // under 3.6e-4951: zero
    value =
      exponent >= 0
        ? round(negative, digits * 10n ** BigInt(exponent), 1n)
        : round(negative, digits, 10n ** BigInt(-exponent))
  }
  // `strtold` reports overflow (an infinity) and underflow to zero with ERANGE: refused.
  if (!isFiniteLd(value) || value.significand === 0n) return undefined
  return value
}

/** Whether `x` is an infinity. */
export function isInfinite(x: LongDouble): boolean {
  return !isFiniteLd(x)
}

/**
 * A blocking command's timeout in milliseconds as Redis 7.0 computes it from seconds:
 * `(long long) ceill(seconds * 1000.0)`, the product rounded once; `undefined` for an infinity.
 */
export function ceilTimes1000(x: LongDouble): bigint | undefined {
  if (!isFiniteLd(x)) return undefined
  const product =
    x.exponent >= 0
      ? round(x.negative, (x.significand * 1000n) << BigInt(x.exponent), 1n)
      : round(x.negative, x.significand * 1000n, 1n << BigInt(-x.exponent))
  if (!isFiniteLd(product)) return undefined
  const { negative, significand, exponent } = product
  if (exponent >= 0) {
    const whole = significand << BigInt(exponent)
    return negative ? -whole : whole
  }
  const whole = significand >> BigInt(-exponent)
  if (negative) return -whole
  return whole << BigInt(-exponent) === significand ? whole : whole + 1n
}

/** `a + b`, rounded once; `undefined` for NaN (infinities of opposite signs). */
export function add(a: LongDouble, b: LongDouble): LongDouble | undefined {
  if (!isFiniteLd(a) || !isFiniteLd(b)) {
    if (!isFiniteLd(a) && !isFiniteLd(b) && a.negative !== b.negative) return undefined
    return isFiniteLd(a) ? b : a
  }
  if (a.significand === 0n && b.significand === 0n) {
    return { negative: a.negative && b.negative, significand: 0n, exponent: 0 }
  }
  if (a.significand === 0n) return b
  if (b.significand === 0n) return a
  const exponent = Math.min(a.exponent, b.exponent)
  const sa = a.significand << BigInt(a.exponent - exponent)
  const sb = b.significand << BigInt(b.exponent - exponent)
  const sum = (a.negative ? -sa : sa) + (b.negative ? -sb : sb)
  // An exact zero sum is +0 when rounding to nearest.
  const negative = sum < 0n
  const magnitude = negative ? -sum : sum
  return exponent >= 0
    ? round(negative, magnitude << BigInt(exponent), 1n)
    : round(negative, magnitude, 1n << BigInt(-exponent))
}

const SCALE = 10n ** 17n

/**
 * `x` (finite) as Redis's `ld2string` prints it for `INCRBYFLOAT` (`LD_STR_HUMAN`): `%.17Lf`
 * (rounded to nearest, ties to even, as glibc prints), then the fraction's trailing zeros and a
 * trailing `.` dropped, and `-0` written `0`.
 */
export function formatLongDouble(x: LongDouble): string {
  if (!isFiniteLd(x)) return x.negative ? '-inf' : 'inf'
  const scaled =
    x.exponent >= 0
      ? (x.significand << BigInt(x.exponent)) * SCALE
      : divideRounded(x.significand * SCALE, 1n << BigInt(-x.exponent))
  const whole = (scaled / SCALE).toString()
  const fraction = (scaled % SCALE).toString().padStart(17, '0').replace(/0+$/, '')
  const text = `${x.negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`
  return text === '-0' ? '0' : text
}
