// The pickle reader's text decoding: strict UTF-8 with surrogatepass, raw-unicode-escape and
// Python string-literal escapes (protocol 0), each in one pass.

import { fail } from './_pickle-read-rules.ts'

// ---------------------------------------------------------------------------------------------
// Text decoding.

/** Strict UTF-8 with Python's `surrogatepass`: lone surrogates (ED A0..BF xx) are allowed. */
export function decodeUtf8Strict(bytes: Uint8Array, start: number, end: number): string {
  const parts: string[] = []
  let units: number[] = []
  let i = start
  while (i < end) {
    const b0 = bytes[i] as number
    let cp: number
    if (b0 < 0x80) {
      cp = b0
      i += 1
    } else {
      let need: number
      let lo = 0x80
      let hi = 0xbf
      if (b0 >= 0xc2 && b0 <= 0xdf) {
        need = 1
        cp = b0 & 0x1f
      } else if (b0 >= 0xe0 && b0 <= 0xef) {
        need = 2
        cp = b0 & 0x0f
        if (b0 === 0xe0) lo = 0xa0
      } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        need = 3
        cp = b0 & 0x07
        if (b0 === 0xf0) lo = 0x90
        if (b0 === 0xf4) hi = 0x8f
      } else {
        fail(`invalid UTF-8 start byte 0x${b0.toString(16)} in a str`)
      }
      for (let k = 1; k <= need; k++) {
        const b = i + k < end ? (bytes[i + k] as number) : -1
        const min = k === 1 ? lo : 0x80
        const max = k === 1 ? hi : 0xbf
        if (b < min || b > max) fail('invalid UTF-8 continuation in a str')
        cp = (cp << 6) | (b & 0x3f)
      }
      i += need + 1
    }
    if (cp >= 0x10000) {
      cp -= 0x10000
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff))
    } else {
      units.push(cp)
    }
    if (units.length >= 8192) {
      parts.push(String.fromCharCode(...units))
      units = []
    }
  }
  parts.push(String.fromCharCode(...units))
  return parts.join('')
}

/** Python's `bytes.decode('utf-8', 'surrogatepass')`: throws on malformed UTF-8. */
export function decodeUtf8(bytes: Buffer, start: number, end: number): string {
  const text = bytes.toString('utf8', start, end)
  // U+FFFD appears when the input was malformed (or really contains U+FFFD): check strictly.
  if (text.indexOf('\uFFFD') === -1) return text
  return decodeUtf8Strict(bytes, start, end)
}

/** Whether `text` holds a surrogate that is not half of a pair (UTF-8 cannot encode it). */
export function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0xd800 || c > 0xdfff) continue
    if (c > 0xdbff) return true // a low surrogate with no high one before it
    const next = text.charCodeAt(i + 1)
    if (!(next >= 0xdc00 && next <= 0xdfff)) return true
    i++ // a pair
  }
  return false
}

export function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  return -1
}

/**
 * Python's `raw_unicode_escape` decoding (protocol 0's UNICODE opcode): `\uXXXX` and `\UXXXXXXXX`
 * after an odd run of backslashes are escapes, every other byte is its latin-1 character. One
 * pass; the output never has more UTF-16 units than the input has bytes.
 */
export function decodeRawUnicodeEscape(bytes: Buffer, start: number, end: number): string {
  const first = bytes.indexOf(0x5c, start)
  if (first === -1 || first >= end) return bytes.toString('latin1', start, end)
  const units = new Uint16Array(end - start)
  let n = 0
  let i = start
  while (i < end) {
    const c = bytes[i] as number
    if (c !== 0x5c) {
      units[n++] = c
      i++
      continue
    }
    const run = i
    while (i < end && bytes[i] === 0x5c) {
      units[n++] = 0x5c
      i++
    }
    const u = i < end ? (bytes[i] as number) : -1
    if ((i - run) % 2 === 0 || (u !== 0x75 && u !== 0x55)) continue
    n-- // the escape's own backslash
    const digits = u === 0x75 ? 4 : 8
    if (i + digits >= end) fail('truncated \\uXXXX escape in a UNICODE opcode')
    let cp = 0
    for (let k = 1; k <= digits; k++) {
      const h = hexValue(bytes[i + k] as number)
      if (h < 0) fail('truncated \\uXXXX escape in a UNICODE opcode')
      cp = cp * 16 + h
    }
    if (cp > 0x10ffff) fail('\\Uxxxxxxxx out of range in a UNICODE opcode')
    if (cp >= 0x10000) {
      cp -= 0x10000
      units[n++] = 0xd800 + (cp >> 10)
      units[n++] = 0xdc00 + (cp & 0x3ff)
    } else {
      units[n++] = cp
    }
    i += digits + 1
  }
  return unitsToString(units, n)
}

/** The string of `units[0..n)`, in chunks (an argument list has a size limit). */
export function unitsToString(units: Uint16Array, n: number): string {
  const CHUNK = 8192
  if (n <= CHUNK)
    return String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[])
  const parts: string[] = []
  for (let k = 0; k < n; k += CHUNK) {
    const chunk = units.subarray(k, Math.min(n, k + CHUNK))
    parts.push(String.fromCharCode.apply(null, chunk as unknown as number[]))
  }
  return parts.join('')
}

export function isOctalDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x37
}

/**
 * Python's bytes-literal escapes (`PyBytes_DecodeEscape`, protocol 0's STRING opcode) of
 * `bytes[start..end)`, giving latin-1 text. One pass; the output is never longer than the input.
 */
export function decodeEscapedString(bytes: Buffer, start: number, end: number): string {
  const first = bytes.indexOf(0x5c, start)
  if (first === -1 || first >= end) return bytes.toString('latin1', start, end)
  const out = Buffer.allocUnsafe(end - start)
  let n = 0
  let i = start
  while (i < end) {
    const c = bytes[i++] as number
    if (c !== 0x5c) {
      out[n++] = c
      continue
    }
    if (i >= end) fail('trailing \\ in a STRING opcode')
    const e = bytes[i++] as number
    switch (e) {
      case 0x5c: // \\ \' \"
      case 0x27:
      case 0x22:
        out[n++] = e
        break
      case 0x6e: // \n
        out[n++] = 0x0a
        break
      case 0x72: // \r
        out[n++] = 0x0d
        break
      case 0x74: // \t
        out[n++] = 0x09
        break
      case 0x61: // \a
        out[n++] = 0x07
        break
      case 0x62: // \b
        out[n++] = 0x08
        break
      case 0x66: // \f
        out[n++] = 0x0c
        break
      case 0x76: // \v
        out[n++] = 0x0b
        break
      case 0x0a: // an escaped newline is dropped
        break
      case 0x78: {
        // \xHH: exactly two hex digits
        const h1 = i < end ? hexValue(bytes[i] as number) : -1
        const h2 = i + 1 < end ? hexValue(bytes[i + 1] as number) : -1
        if (h1 < 0 || h2 < 0) fail('invalid \\x escape in a STRING opcode')
        out[n++] = h1 * 16 + h2
        i += 2
        break
      }
      default:
        if (isOctalDigit(e)) {
          // \O, \OO or \OOO, truncated to a byte as C does.
          let value = e - 0x30
          for (let k = 0; k < 2 && i < end && isOctalDigit(bytes[i] as number); k++) {
            value = value * 8 + (bytes[i++] as number) - 0x30
          }
          out[n++] = value & 0xff
        } else {
          // Not an escape: the backslash and the character stay.
          out[n++] = 0x5c
          out[n++] = e
        }
    }
  }
  return out.toString('latin1', 0, n)
}
