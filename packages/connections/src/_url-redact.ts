// How a Redis URL is shown in messages: its password, and whatever may be one, hidden.

/**
 * A `redis://` URL whose host is an IPv6 address with a zone ID, written as RFC 6874 says
 * (`redis://[fe80::1%25eth0]:6379`: the interface of a link-local address): the zone is 1 to 64
 * letters, digits, `_`, `.` or `-` (an interface name or index), as Node's `net.connect` takes it.
 */
export const ZONED_HOST =
  /^((?:redis|valkey)s?:\/\/(?:[^/?#]*@)?\[[0-9A-Fa-f:.]+)%25([A-Za-z0-9_.-]{1,64})\]/i

/**
 * The URL with any password replaced by `***`, for messages and logs: everything between the
 * user name (up to the first `:` after the scheme and its slashes, however many) and the last
 * `@` — a password may hold a raw `@`, `:`, `/`, `?` or `#` that a URL parser would take for the
 * end of the userinfo — and the value of every query parameter but a `db` of digits. A userinfo
 * without a `:` (`redis://name@host`) or with an empty password (`redis://name:@host`) is hidden
 * whole (`redis://***@host`): it reads as a user name, but is often a password typed without its
 * colon (the form ioredis reads as a password). Without an
 * `@`, a `user:secret` where a host and port would be (a location split at a raw comma in its
 * password) hides `secret` when it is not a port. A text with neither a scheme nor `//` is no
 * URL (often a password put in the wrong setting): hidden whole.
 */
export function redactUrl(url: string): string {
  let out = url
  const scheme = /^[a-z][a-z0-9+.-]*:\/*/i.exec(url)
  const slashes = url.indexOf('//')
  const start = scheme !== null ? scheme[0].length : slashes >= 0 ? slashes + 2 : -1
  if (start < 0) return url === '' ? url : '***'
  // `user:secret`, `host:secret`: a scheme no location has, with no `//` (a password with a `:`).
  if (scheme !== null && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    if (!/^(redis|rediss|valkey|valkeys|unix|memory):/i.test(url)) return '***'
    // `rediss:secret`, `redis:/secret`: no host is read there (a slash or two short), and no
    // userinfo to hide a password by; with an `@`, the userinfo is hidden below.
    if (/^(redis|valkey)s?:/i.test(url) && !url.includes('@')) return `${scheme[0]}***`
  }
  // `unix:///path`: an `@` there is the socket path's (a userinfo comes before the path's `/`).
  const at = /^unix:\/\/\//i.test(url) ? -1 : userinfoEnd(url, start)
  // Where the host begins in `out`: after the userinfo's `@`, if any.
  let host = start
  if (at === url.length) {
    out = `${url.slice(0, start)}***`
    host = -1
  } else if (start >= 0 && at >= start) {
    const colon = url.indexOf(':', start)
    // An empty password (`name:@host`) leaves a user name alone, hidden as one is without a colon.
    out =
      colon >= 0 && colon < at - 1
        ? `${url.slice(0, colon)}:***${url.slice(at)}`
        : `${url.slice(0, start)}***${url.slice(at)}`
    host = out.length - (url.length - at) + 1
  }
  // A port that is no number may be a password cut from its host (`h:secret`, a raw `,` or `/`
  // splitting a URL): hidden, with a `#` after it (of a password's, not a fragment's: a URL with
  // a fragment is refused anyway). An IPv6 host's too (`[::1]:secret`).
  if (host >= 0) {
    const hostPort = /^(\[[^\]/?#]*\]|[^:/?#[][^:/?#]*|):([^/?]*)/.exec(out.slice(host))
    if (hostPort !== null && !/^\d*$/.test(hostPort[2] as string)) {
      out = `${out.slice(0, host)}${hostPort[1]}:***${out.slice(host + hostPort[0].length)}`
    }
  }
  // A database path with more after its digits (`/0&password=…`, an `&` typed for `?`, or
  // `/0,secret`): hidden, `#` included (a password's, typed after the path), but for a trailing
  // `/`. The path is the one after the userinfo's `@` (a user name may hold a raw `/`:
  // `a/b:***@h`), else after the scheme and its slashes (`redis:///0…`, `redis:h/0…`).
  if (!/^unix:/i.test(out)) {
    const end = out.indexOf('?')
    const at = out.lastIndexOf('@', end < 0 ? out.length : end)
    const hide = (path: string, rest: string) =>
      rest === '' || rest === '/' ? path + rest : `${path}***`
    // After the scheme, up to two slashes taken whole (`(?=(…))\2`: no backtracking into them,
    // which would take `redis://u:pw` for an empty host and the path `/u:pw`).
    out =
      at >= 0
        ? out.slice(0, at + 1) +
          out.slice(at + 1).replace(/^([^/?#]*\/\d*)([^?]*)/, (_, path, rest) => hide(path, rest))
        : out.replace(
            /^([a-z][a-z0-9+.-]*:(?=(\/{0,2}))\2[^/?#]*\/\d*)([^?]*)/i,
            (_, path, _s, rest) => hide(path, rest),
          )
    // And what a lenient reading takes for a path (`redis://0&password=…`: the slashes of the
    // scheme), when it holds `=`, `&` or `;`.
    // (The digits taken whole, and the rest up to its first `=`, `&` or `;`: a pattern that could
    // share characters between them took quadratic time, 11 s on a path of 100,000 digits.)
    out = out.replace(/^([a-z][a-z0-9+.-]*:\/*[^/?#]*\/(?=(\d*))\2)([^?#=&;]*[=&;][^?]*)/i, '$1***')
  }
  // Every query value but `db`'s: `password` however its name is spelled (`pass%77ord`), a
  // misnamed one (`pwd`) that a refusal would otherwise echo, and an item that is no plain
  // `name=value` (`?password:secret`, `?secret`, `password%3Dsecret`) whole.
  const question = out.indexOf('?')
  if (question < 0) return withoutFragment(out)
  const query = out.slice(question).replace(/([?&])([^&]*)/g, (whole, separator: string, item) => {
    const equals = item.indexOf('=')
    const name = equals < 0 ? undefined : item.slice(0, equals)
    if (name === undefined || !PLAIN_NAME.test(name)) return `${separator}***`
    // `db` as the parser reads it, when it is digits (anything else may be a password's: the
    // path's text is hidden so too); a `DB=` it refuses may be anything.
    return name === 'db' && /^db=\d*$/.test(item) ? whole : `${separator}${name}=***`
  })
  return withoutFragment(out.slice(0, question) + query)
}

/**
 * `url` with what follows a `#` left there hidden: no Redis URL has a fragment, so it is a
 * password's, typed after the host (`redis://h#secret`). A query value holding one is hidden
 * already.
 */
function withoutFragment(url: string): string {
  const hash = url.indexOf('#')
  return hash < 0 ? url : `${url.slice(0, hash)}#***`
}

/**
 * Where the userinfo of `url` ends (its last `@`), or -1. An `@` in a query value of a URL that
 * parses with a host and holds no `@` before its query is the query's (`redis://h/0?password=p@ss`:
 * no userinfo). Where a reading of the URL would show part of a password, returns `url.length`,
 * to hide all after the scheme: an `@` before the query and another in it (the userinfo may end
 * at either: `redis://user@h/0?password=p@ss`, `redis://:p@q?w=@r@h`), a raw `#` before the last
 * `@` with a `?` before that `@` too, or an `@` in a query item that is no `name=value`
 * (`redis://pass?word@h`).
 */
function userinfoEnd(url: string, start: number): number {
  const at = url.lastIndexOf('@')
  if (at < 0) return -1
  const question = url.indexOf('?', Math.max(start, 0))
  const hash = url.indexOf('#', Math.max(start, 0))
  // A parser would read a fragment from the `#`, with the rest of the password in it.
  if (hash >= 0 && hash < at) return question >= 0 && question < at ? url.length : at
  if (question < 0 || at < question) return at
  if (url.lastIndexOf('@', question) >= 0) return url.length
  try {
    // The parser refuses an IPv6 zone ID (`%25eth0`): read without it, as `parseRedisUrl` does.
    if (new URL(url.replace(ZONED_HOST, '$1]')).hostname !== '') {
      const item = Math.max(url.lastIndexOf('&', at), url.lastIndexOf('?', at))
      return url.slice(item, at).includes('=') ? -1 : url.length
    }
  } catch {
    // Not a URL a parser reads (a raw `?` in the password): the last `@` it is.
  }
  return at
}

/** A query parameter's name that may be shown: letters, digits and `_`, as a name is written. */
export const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/
