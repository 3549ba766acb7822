// How long a key's name may be for the admin to open it. The key routes carry the name in their
// URL (`api/caches/:alias/key?key=…`), and Node refuses a request whose head (its URL and its
// headers) passes 16 KiB by default (`maxHeaderSize`) with 431, before the handler runs; other
// servers and proxies bound it near 8 KiB. Shared by the server and the web app (no Node API).

/**
 * Characters a key's name may take percent-encoded for the list to link it: half of Node's
 * default bound on a request's head, the rest left to the path, the other query parameters and
 * the headers (the session cookie, the CSRF token). About 8,000 ASCII characters, 900 CJK ones.
 */
export const MAX_KEY_URL_CHARS = 8 * 1024

/** Characters ASCII keeps as they are in a URL's query (`URLSearchParams` and `encodeURIComponent`). */
const KEPT = /[A-Za-z0-9\-_.!~*'()]/

/**
 * Characters `name` takes percent-encoded (as `encodeURIComponent` writes it; `URLSearchParams`
 * writes a few ASCII characters differently, never longer): 1 for a letter, a digit or one of
 * `-_.!~*'()`, 3 for other ASCII, 3 per byte of UTF-8 otherwise. Never throws (a lone surrogate,
 * which becomes U+FFFD, counts 9).
 */
export function keyUrlChars(name: string): number {
  let chars = 0
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i)
    if (code < 0x80) chars += KEPT.test(name[i] as string) ? 1 : 3
    else if (code < 0x800) chars += 6
    else if (code >= 0xd800 && code <= 0xdbff && isLow(name.charCodeAt(i + 1))) {
      chars += 12
      i++
    } else chars += 9
  }
  return chars
}

function isLow(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff
}

/** Whether the admin can open the key named `name` (see `MAX_KEY_URL_CHARS`). */
export function openable(name: string): boolean {
  // Most names are short: at most 12 characters each, they fit without being counted.
  return name.length * 12 <= MAX_KEY_URL_CHARS || keyUrlChars(name) <= MAX_KEY_URL_CHARS
}
