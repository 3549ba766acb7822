// The bound on the user's keys and hash field names that error messages quote: a key may be up
// to 512 MB, and keys come from Redis too (SCAN), so each error of one — each log line of
// ignoreExceptions, each `console.error(err)` — would carry it whole.

/** The characters of a key or field name an error message quotes at most before its `…`. */
export const QUOTED_LENGTH = 1024

/**
 * `text` whole up to `length` characters, else its first ones (never half of a surrogate pair)
 * and `…`: how an error message quotes a key or a field name.
 */
export function bounded(text: string, length = QUOTED_LENGTH): string {
  // A message builds on an error path: what a JavaScript caller handed in despite the types
  // reads as before rather than throwing here.
  if (typeof text !== 'string' || text.length <= length) return text
  const last = text.charCodeAt(length - 1)
  const end = last >= 0xd800 && last <= 0xdbff ? length - 1 : length
  return `${text.slice(0, end)}…`
}
