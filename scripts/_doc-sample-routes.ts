// Preloaded (`node --import`) into every doc sample that `pnpm docs:check` runs. The samples name
// the addresses a user would write (`redis://127.0.0.1:6379/0`, no location at all, cluster seeds
// `10.0.0.1:7000`, sentinels `['10.0.0.1', 26379]`); the check starts real servers on free ports
// instead, and this file sends each connection to the server standing in for the address the
// sample named. The map comes from CACHEX_DOC_ROUTES: `{ "host:port": "127.0.0.1:port" }`.
// Addresses not in the map are left alone (the cluster nodes and the primary a sentinel reports
// are already on loopback). It rewrites the address before the connection is made, so a TLS
// certificate is checked against the host really connected to, and nothing ever reaches a Redis
// that happens to listen on 127.0.0.1:6379.
import dns from 'node:dns'
import { syncBuiltinESMExports } from 'node:module'
import net from 'node:net'
import tls from 'node:tls'

const routes = new Map<string, { host: string; port: number }>(
  Object.entries(JSON.parse(process.env.CACHEX_DOC_ROUTES ?? '{}') as Record<string, string>).map(
    ([from, to]) => {
      const at = to.lastIndexOf(':')
      return [from, { host: to.slice(0, at), port: Number(to.slice(at + 1)) }]
    },
  ),
)

function reroute(args: unknown[]): unknown[] {
  const [first, ...rest] = args
  if (typeof first === 'object' && first !== null && !('path' in first && first.path)) {
    const options = first as { host?: string; port?: number | string; servername?: string }
    const to = routes.get(`${options.host ?? 'localhost'}:${Number(options.port ?? 0)}`)
    // Without a `servername` of the sample's own, TLS then checks the certificate against the
    // loopback address really connected to (the test certificates name 127.0.0.1).
    return to === undefined ? args : [{ ...options, host: to.host, port: to.port }, ...rest]
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    const host = typeof rest[0] === 'string' ? rest[0] : 'localhost'
    const to = routes.get(`${host}:${Number(first)}`)
    if (to === undefined) return args
    return typeof rest[0] === 'string'
      ? [to.port, to.host, ...rest.slice(1)]
      : [to.port, to.host, ...rest]
  }
  return args
}

const netConnect = net.connect
const tlsConnect = tls.connect
net.connect = ((...args: unknown[]) =>
  (netConnect as (...a: unknown[]) => net.Socket)(...reroute(args))) as typeof net.connect
net.createConnection = net.connect
tls.connect = ((...args: unknown[]) =>
  (tlsConnect as (...a: unknown[]) => tls.TLSSocket)(...reroute(args))) as typeof tls.connect

// node-redis resolves the host it was given (to tell a private endpoint from a public one), so a
// name a sample uses (`redis.internal`, `primary`) must resolve too: to loopback, where its server is.
const names = new Set(
  [...routes.keys()].map((address) => address.slice(0, address.lastIndexOf(':'))),
)
const dnsLookup = dns.lookup
const promisesLookup = dns.promises.lookup
dns.lookup = ((hostname: string, ...rest: unknown[]) =>
  (dnsLookup as (...a: unknown[]) => void)(
    names.has(hostname) ? '127.0.0.1' : hostname,
    ...rest,
  )) as typeof dns.lookup
dns.promises.lookup = ((hostname: string, ...rest: unknown[]) =>
  (promisesLookup as (...a: unknown[]) => Promise<unknown>)(
    names.has(hostname) ? '127.0.0.1' : hostname,
    ...rest,
  )) as typeof dns.promises.lookup
syncBuiltinESMExports()
