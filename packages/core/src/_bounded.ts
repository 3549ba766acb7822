// The bound on the user's keys and hash field names that error messages quote: a key may be up
// to 512 MB, and keys come from Redis too (SCAN), so each error of one — each log line of
// ignoreExceptions, each `console.error(err)` — would carry it whole.

/** The characters of a key or field name an error message quotes at most before its `…`. */
export const QUOTED_LENGTH = 1024

/**
 * `text` whole up to `length` characters, else its first ones (never half of a surrogate pair)
 * and `…`: how an error message quotes a key or a field name. A lone surrogate reads as U+FFFD,
 * as the key was written (a span's text must be UTF-8: an OTLP exporter refuses it otherwise).
 */
export function bounded(text: string, length = QUOTED_LENGTH): string {
  // A message builds on an error path: what a JavaScript caller handed in despite the types
  // reads as before rather than throwing here.
  if (typeof text !== 'string') return text
  if (text.length <= length) return wellFormed(text)
  const last = text.charCodeAt(length - 1)
  const end = last >= 0xd800 && last <= 0xdbff ? length - 1 : length
  return `${wellFormed(text.slice(0, end))}…`
}

/** `text` with each lone surrogate as U+FFFD, as its UTF-8 bytes read back (`toWellFormed`). */
export function wellFormed(text: string): string {
  // ES2024, in Node 20: typed here, so that the source also compiles where the lib is ES2022.
  return typeof text === 'string'
    ? (text as unknown as { toWellFormed(): string }).toWellFormed()
    : text
}
