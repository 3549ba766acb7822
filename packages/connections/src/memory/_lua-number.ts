// Lua 5.1's `tonumber` and `string.format('%.0f', x)`, as the native scripts need them (each does
// with numbers what its Lua does).

/** C's `isspace`: what `strtod`, and so Lua's `tonumber`, skips around a number. */
const SPACE = '[ \\t\\n\\v\\f\\r]*'
/** What glibc's `strtod` reads: decimal, hexadecimal (with a binary exponent), inf, nan. */
const LUA_NUMBER = new RegExp(
  `^${SPACE}([+-]?)(?:(inf(?:inity)?)|(nan(?:\\([0-9a-z_]*\\))?)|0x([0-9a-f]*)(?:\\.([0-9a-f]*))?(?:p([+-]?\\d+))?|(\\d+(?:\\.\\d*)?(?:e[+-]?\\d+)?|\\.\\d+(?:e[+-]?\\d+)?))${SPACE}$`,
  'i',
)

/**
 * Lua 5.1's `tonumber(s)` (and its string-to-number coercion in arithmetic): `strtod`, then
 * only spaces; `null` where Lua gives `nil`. Lengths are bounded by the caller's arguments.
 */
export function luaToNumber(s: string | undefined): number | null {
  if (s === undefined) return null
  // Lua hands strtod a C string: it ends at the first NUL byte
  const nul = s.indexOf('\0')
  const m = LUA_NUMBER.exec(nul < 0 ? s : s.slice(0, nul))
  if (m === null) return null
  const [, sign, inf, nan, hexInt, hexFrac, hexExp, decimal] = m
  const negative = sign === '-'
  let value: number
  if (inf !== undefined) value = Number.POSITIVE_INFINITY
  else if (nan !== undefined) value = Number.NaN
  else if (decimal !== undefined) value = Number(decimal)
  else {
    // 0x… needs a hex digit, before or after the point
    if ((hexInt ?? '') === '' && (hexFrac ?? '') === '') return null
    const mantissa = Number(BigInt(`0x${hexInt ?? ''}${hexFrac ?? ''}`))
    const exponent = Number(hexExp ?? '0') - 4 * (hexFrac ?? '').length
    value = mantissa === 0 ? 0 : mantissa * 2 ** exponent
  }
  return negative ? -value : value
}

/** C's `printf('%.0f', x)` (`string.format('%.0f', x)` in Lua): ties to even, no exponent. */
export function format0f(x: number): string {
  if (Number.isNaN(x)) return 'nan'
  if (x === Number.POSITIVE_INFINITY) return 'inf'
  if (x === Number.NEGATIVE_INFINITY) return '-inf'
  const floor = Math.floor(x)
  const rest = x - floor
  const n = rest < 0.5 ? floor : rest > 0.5 ? floor + 1 : floor % 2 === 0 ? floor : floor + 1
  const digits = BigInt(n).toString()
  return (n === 0 && (x < 0 || Object.is(x, -0)) ? '-' : '') + digits
}
