import { parseRedisUrl } from '@cachex/connections'
import { DEFAULT_URL, isMemoryLocation, parseLocation } from '@cachex/connections/internal'
import { own } from '@cachex/core/internal'
import type { CreateCacheOptions } from './_options.ts'

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1'])

/**
 * Why two caches of a configuration step on each other's keys, one sentence per pair: both on
 * one server and database (as configured: a shared URL, replica or seed node, or the same client
 * object) and one's `clear()` reaches the other's keys. With the default key function
 * (`prefix:version:key`) that is the case when the prefixes are equal, when one is the other plus
 * `:…` (`ab` and `ab:c`: `clear()` on `ab` deletes `ab:*`, and `ab:1`'s keys are `ab`'s keys of
 * version 1), or when one is empty (`clear()` runs `FLUSHDB`). `ab` and `abc` do not overlap.
 */
export function prefixOverlaps(caches: Readonly<Record<string, CreateCacheOptions>>): string[] {
  const identities = new Map<object, number>()
  const entries = Object.entries(caches).map(([alias, options]) => ({
    alias,
    prefix: own(options, 'keyPrefix') ?? '',
    where: endpoints(options ?? {}, identities),
  }))
  const messages: string[] = []
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const a = entries[i] as (typeof entries)[number]
      const b = entries[j] as (typeof entries)[number]
      const shared = [...a.where].find((endpoint) => b.where.has(endpoint))
      if (shared === undefined) continue
      const why = overlap(a, b) ?? overlap(b, a)
      if (why === undefined) continue
      messages.push(
        `cachex: the caches '${a.alias}' (keyPrefix '${a.prefix}') and '${b.alias}' (keyPrefix '${b.prefix}') share ${shared}: ${why}. Give each cache its own prefix (none a ':'-prefix of another) or its own database.`,
      )
    }
  }
  return messages
}

/** Why `outer.clear()` reaches `inner`'s keys, or `undefined`. */
function overlap(
  outer: { alias: string; prefix: string },
  inner: { alias: string; prefix: string },
): string | undefined {
  if (outer.prefix === '') {
    return `'${outer.alias}' has no keyPrefix, so its clear() runs FLUSHDB and deletes every key of '${inner.alias}' too`
  }
  if (outer.prefix === inner.prefix) {
    return `each one's clear() deletes the other's keys, and equal keys of equal versions are one Redis key`
  }
  if (inner.prefix.startsWith(`${outer.prefix}:`)) {
    return `'${outer.alias}'.clear() deletes '${outer.prefix}:*', which holds every key of '${inner.alias}', and their keys can collide`
  }
  return undefined
}

/**
 * The servers and databases a cache's options point at, as comparable strings (`host:port/db`,
 * never a password); a client object stands for itself, a named `memory://` store for itself. A location that does not parse is left
 * out: createCache reports it.
 */
function endpoints(options: CreateCacheOptions, identities: Map<object, number>): Set<string> {
  const found = new Set<string>()
  const location = own(options, 'location') ?? DEFAULT_URL
  if (typeof location === 'object' && !Array.isArray(location)) {
    let id = identities.get(location)
    if (id === undefined) {
      id = identities.size + 1
      identities.set(location, id)
    }
    found.add(`the same client object (#${id})`)
    return found
  }
  if (isMemoryLocation(location)) {
    // `memory://name` is one store shared by name in the process; `memory://` a private one.
    const name = memoryStore(location)
    if (name !== undefined && name !== '') found.add(`memory store ${name}`)
    return found
  }
  let urls: string[]
  try {
    urls = parseLocation(location) ?? []
  } catch {
    // Not a list this check understands; createCache rejects it with a proper error.
    return found
  }
  // A sentinel location names a service, not a host: keep the two apart.
  const kind = own(options, 'client') === 'sentinel' ? 'sentinel service ' : ''
  for (const url of urls) {
    try {
      const address = parseRedisUrl(url)
      if (address.path !== undefined) {
        found.add(`unix socket ${address.path}, database ${address.database}`)
      } else {
        const host = (address.host ?? '').toLowerCase()
        const name = LOOPBACK.has(host) ? '127.0.0.1' : host
        found.add(`${kind}${name}:${address.port ?? 6379}, database ${address.database}`)
      }
    } catch {
      // Not a URL this check understands; createCache rejects it with a proper error.
    }
  }
  return found
}

/**
 * The store name of a `memory://[name]` location as the memory backend reads it (`''`: a private
 * store), or `undefined` when it is not one it takes (createCache reports that).
 */
function memoryStore(location: string): string | undefined {
  const name = location.trim().slice('memory://'.length).replace(/\/+$/, '')
  if (name.length > 256 || /[\s/?#]/.test(name)) return undefined
  try {
    return decodeURIComponent(name)
  } catch {
    return undefined
  }
}
