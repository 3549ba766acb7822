// Where the app is: the hash (`#/c/default/key?k=user%3A1`) as a page, a cache alias and
// parameters. Every page is a hash, so the back button and links work without a server route.

/** A place in the app. */
export interface Place {
  /** `caches`, `keys`, `key`, `info`, `slowlog`, `stats`, `delete`. */
  page: string
  alias: string | undefined
  params: URLSearchParams
}

/** The place of the current hash. */
export function currentPlace(): Place {
  const hash = location.hash.replace(/^#/, '') || '/'
  const q = hash.indexOf('?')
  const path = q === -1 ? hash : hash.slice(0, q)
  const params = new URLSearchParams(q === -1 ? '' : hash.slice(q + 1))
  const parts = path.split('/').filter((p) => p !== '')
  if (parts[0] === 'c' && parts[1] !== undefined) {
    let alias: string
    try {
      alias = decodeURIComponent(parts[1])
    } catch {
      return { page: 'caches', alias: undefined, params }
    }
    return { page: parts[2] ?? 'keys', alias, params }
  }
  return { page: 'caches', alias: undefined, params }
}

/** The hash of a place. */
export function href(
  page: string,
  alias?: string,
  params: Record<string, string | number | undefined> = {},
): string {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(name, String(value))
  }
  const query = search.toString()
  const path = alias === undefined ? '#/' : `#/c/${encodeURIComponent(alias)}/${page}`
  return query === '' ? path : `${path}?${query}`
}
