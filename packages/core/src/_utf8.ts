import { isAscii } from 'node:buffer'

/** Below this many bytes V8's UTF-8 decoder is as fast as the ASCII check plus a copy. */
const ASCII_CHECK_FROM = 1024

/**
 * `bytes` read as UTF-8 text, as `bytes.toString('utf8')` reads them. Pure ASCII (most large
 * serialized values) reads the same as latin1, which is a plain copy, while V8's UTF-8 decoder
 * costs several times that on a large value; `isAscii` (simdutf) checks at memory speed.
 */
export function utf8Text(bytes: Buffer): string {
  return bytes.length >= ASCII_CHECK_FROM && isAscii(bytes)
    ? bytes.toString('latin1')
    : bytes.toString('utf8')
}
