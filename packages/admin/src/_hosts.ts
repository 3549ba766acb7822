// Which host names the admin answers. A page under a name its owner points at this server (DNS
// rebinding: evil.example resolves to 127.0.0.1) is same-origin for the browser, so its Origin
// checks pass and an `auth` function that trusts the connection or a header lets it in; only the
// name it sends as `Host` (HTTP/2: `:authority`) tells it apart. As Vite's `server.allowedHosts`:
// IP addresses, `localhost` and `*.localhost` by default (no one else's DNS names them), the names
// of the `allowedHosts` option, or any host with `allowedHosts: true`.
import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'
import { InvalidArgumentError } from '@cachex/core'
import { HttpError } from './_http.ts'

/** The checked `allowedHosts` option: `null` when any host is answered. */
export type AllowedHosts = {
  /** Names answered exactly, lowercase, without a trailing dot. */
  names: ReadonlySet<string>
  /** Domains answered with their subdomains (`.example.com` → `example.com`). */
  domains: readonly string[]
} | null

/** A DNS name: labels of letters, digits, `-` and `_`, joined by dots. */
const NAME = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/

/** Characters of a refused host the message quotes at most. */
const QUOTED_CHARS = 100

/** Checks the `allowedHosts` option of `createAdminHandler`. */
export function checkAllowedHosts(option: unknown): AllowedHosts {
  if (option === true) return null
  const usage =
    "createAdminHandler(): allowedHosts must be a list of host names without a port (such as ['admin.example.com', '.corp.example']), or true to answer any host"
  if (option === undefined) return { names: new Set(), domains: [] }
  if (!Array.isArray(option)) throw new InvalidArgumentError(usage)
  const names = new Set<string>()
  const domains: string[] = []
  for (const entry of option as unknown[]) {
    if (entry === '*') {
      throw new InvalidArgumentError(
        "createAdminHandler(): allowedHosts: ['*'] is not a host: pass allowedHosts: true to answer any host",
      )
    }
    if (typeof entry !== 'string') throw new InvalidArgumentError(usage)
    // IP addresses are always answered: nothing to add.
    if (isIP(entry.replace(/^\[(.*)\]$/, '$1')) !== 0) continue
    const domain = entry.startsWith('.')
    const name = normalize(domain ? entry.slice(1) : entry)
    if (!NAME.test(name)) {
      throw new InvalidArgumentError(
        `${usage}; got '${entry.slice(0, QUOTED_CHARS)}' (a leading '.' allows a domain and its subdomains)`,
      )
    }
    if (domain) domains.push(name)
    else names.add(name)
  }
  return { names, domains }
}

/**
 * Throws 403 unless every host the request names is answered: its `Host`, its HTTP/2
 * `:authority`, and each `X-Forwarded-Host` (which the Origin check trusts as the request's host).
 * A request that names none (HTTP/1.0) comes from no browser page, and goes on.
 */
export function checkHost(allowed: AllowedHosts, req: IncomingMessage): void {
  if (allowed === null) return
  for (const host of requestHosts(req)) {
    if (!answers(allowed, host)) {
      throw new HttpError(
        403,
        `the host '${host.slice(0, QUOTED_CHARS)}' is not one this admin answers (a page under another name must not reach it): add its name to allowedHosts of createAdminHandler()`,
        'host_not_allowed',
      )
    }
  }
}

/**
 * The hosts the request names, as sent (`name:port`): its `Host` (HTTP/1), its `:authority`
 * (HTTP/2, which sends no `Host`) and each `X-Forwarded-Host` of a proxy (a list, by commas).
 */
export function requestHosts(req: IncomingMessage): string[] {
  return [req.headers.host, req.headers[':authority'], req.headers['x-forwarded-host']]
    .flatMap((h) => (typeof h === 'string' ? [h] : Array.isArray(h) ? h : []))
    .flatMap((h) => h.split(','))
    .map((h) => h.trim())
}

/** Whether `host` (`name`, `name:port`, `[v6]:port`) is one the admin answers. */
function answers(allowed: NonNullable<AllowedHosts>, host: string): boolean {
  const match = /^(\[[^\]]*\]|[^:[\]]*)(?::\d*)?$/.exec(host)
  if (match === null) return false
  const literal = match[1] as string
  if (literal.startsWith('[')) return isIP(literal.slice(1, -1)) === 6
  const name = normalize(literal)
  if (isIP(name) !== 0) return true
  if (!NAME.test(name)) return false
  if (name === 'localhost' || name.endsWith('.localhost')) return true
  if (allowed.names.has(name)) return true
  return allowed.domains.some((domain) => name === domain || name.endsWith(`.${domain}`))
}

/** A host name as compared: lowercase, without the trailing dot of a fully qualified name. */
function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '')
}
