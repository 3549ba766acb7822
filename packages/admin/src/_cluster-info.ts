// The primaries of a cache on a Redis Cluster, and the INFO of each. A key-less INFO goes to
// whichever node the cluster connection picks, so each primary's is asked through a key of one
// of its slots (`route.key`): the connection routes it to that primary as it routes a GET, with
// its own bounds (`socketTimeout`; a node it knows is down fails at once) and its own error
// messages (no password).
import { type Connection, keySlot } from '@cachex/core'
import { parseInfo, SLOT_COUNT } from '@cachex/core/internal'
import { scrub } from './_http.ts'

/** One primary of a cluster: its `host:port`, and a key of one of its slots to reach it with. */
export interface ClusterPrimary {
  address: string
  key: string
}

/** One primary's INFO: its `name:value` lines (`dbN` lines as objects), or why it failed. */
export type NodeInfo =
  | { address: string; info: Record<string, unknown> }
  | { address: string; error: string }

/** Keys tried at most to find one in the slots of every primary (one slot: ~16,384 on average). */
const MAX_KEY_TRIES = 1_000_000
/** Primaries named in a cache's address at most; the rest are counted. */
const MAX_NAMED = 6
/** What an address may look like: `host:port`, IPv6 in brackets, nothing else. */
const ADDRESS = /^[\w.:[\]-]{1,100}$/

/**
 * The primaries of a connection that routes by slot, sorted by address, each with a key of one
 * of its slots. The slot map is the node-redis cluster's (`connection.client()`: no round trip),
 * else the cluster's answer to `CLUSTER SLOTS`.
 */
export async function clusterPrimaries(connection: Connection): Promise<ClusterPrimary[]> {
  const owners = (await slotOwners(connection)).map((address) =>
    address !== undefined && ADDRESS.test(address) ? address : undefined,
  )
  const found = new Map<string, string>()
  const wanted = new Set(owners.filter((a): a is string => a !== undefined))
  for (let n = 0; found.size < wanted.size && n < MAX_KEY_TRIES; n++) {
    const key = String(n)
    const owner = owners[keySlot(key)]
    if (owner !== undefined && !found.has(owner)) found.set(owner, key)
  }
  return [...found]
    .map(([address, key]) => ({ address, key }))
    .sort((a, b) => compareAddresses(a.address, b.address))
}

/** `cluster of 3 primaries: a:p, b:p, c:p`, or `null` when no primary is known. */
export async function clusterAddress(connection: Connection): Promise<string | null> {
  const addresses = (await clusterPrimaries(connection)).map((p) => p.address)
  if (addresses.length === 0) return null
  const named = addresses.slice(0, MAX_NAMED).join(', ')
  const more = addresses.length > MAX_NAMED ? ', …' : ''
  const noun = addresses.length === 1 ? 'primary' : 'primaries'
  return `cluster of ${addresses.length} ${noun}: ${named}${more}`
}

/**
 * `INFO` of every primary, at once, each bounded by the connection's call timeout: a primary
 * that fails (down, frozen, refusing) has its error instead, and the others are still there.
 */
export async function clusterInfo(connection: Connection): Promise<NodeInfo[]> {
  const primaries = await clusterPrimaries(connection)
  return Promise.all(
    primaries.map(async ({ address, key }): Promise<NodeInfo> => {
      try {
        const reply = await connection.command(['INFO'], { key, text: true })
        return { address, info: parseInfo(Buffer.isBuffer(reply) ? reply.toString() : `${reply}`) }
      } catch (error) {
        return { address, error: scrub(error instanceof Error ? error.message : String(error)) }
      }
    }),
  )
}

/** The `host:port` of the primary of each slot (`undefined` where none serves it). */
async function slotOwners(connection: Connection): Promise<Array<string | undefined>> {
  const client = (await connection.client()) as { slots?: unknown } | null
  const slots = client?.slots
  if (Array.isArray(slots) && slots.length === SLOT_COUNT) {
    return slots.map((shard) => nodeAddress((shard as { master?: unknown } | undefined)?.master))
  }
  const owners = new Array<string | undefined>(SLOT_COUNT).fill(undefined)
  const reply = await connection.command(['CLUSTER', 'SLOTS'], { text: true })
  for (const range of Array.isArray(reply) ? reply : []) {
    if (!Array.isArray(range)) continue
    const [from, to, master] = range as [unknown, unknown, unknown]
    const address = Array.isArray(master) ? `${master[0]}:${master[1]}` : undefined
    // Bounds from the reply, checked: a range that starts below 0 or is no integer is skipped.
    const start = Number(from)
    if (!Number.isInteger(start) || start < 0) continue
    for (let slot = start; slot <= Number(to) && slot < SLOT_COUNT; slot++) {
      owners[slot] = address
    }
  }
  return owners
}

/** A node-redis cluster node's `host:port`. */
function nodeAddress(node: unknown): string | undefined {
  const { address, host, port } = (node ?? {}) as {
    address?: unknown
    host?: unknown
    port?: unknown
  }
  if (typeof address === 'string') return address
  return typeof host === 'string' && typeof port === 'number' ? `${host}:${port}` : undefined
}

/** By host, then by port as a number. */
function compareAddresses(a: string, b: string): number {
  const colonA = a.lastIndexOf(':')
  const colonB = b.lastIndexOf(':')
  const hostA = a.slice(0, colonA)
  const hostB = b.slice(0, colonB)
  if (hostA !== hostB) return hostA < hostB ? -1 : 1
  return Number(a.slice(colonA + 1)) - Number(b.slice(colonB + 1))
}
