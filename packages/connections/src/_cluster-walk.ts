// Which nodes a keyspace walk of a cluster visits beyond the primaries of the slot map. While a
// slot migrates, the keys already moved live on the importing node, which the slot map does not
// name for that slot (and does not name at all while it owns no slot yet): `SCAN` there finds
// them, `SCAN` on the owner does not. `CLUSTER NODES` of a primary tells which: a node lists its
// own migrations on its own line (`[<slot>->-<node id>]`), and every node's address. Asked of
// each walked primary once per walk (of the owner only, for a pinned slot); a node that refuses
// it (an ACL user without `cluster|nodes`, an older proxy) adds nothing to the walk.
import { scanWalk } from '@cachex/core/internal'
import type { NodeHandle } from './_cluster-nodes.ts'
import { patternSlot } from './_slots.ts'

/** Beyond this, a reply is not read (a cluster of 1,000 nodes writes about 200 KB). */
const MAX_REPLY_CHARS = 8 * 1024 * 1024
/** Beyond this many lines, the rest is not read. */
const MAX_LINES = 10_000

/** One line of `CLUSTER NODES`, as much of it as a walk needs. */
interface NodeLine {
  id: string
  /** `host:port` (the announced IP, without the bus port or host name). */
  address: string
  myself: boolean
  /** A primary, not failed or suspected (`fail?`) and with an address. */
  usable: boolean
  /** One slot the node serves (to find its handle in the slot map), or `undefined`. */
  ownedSlot: number | undefined
  /** The slots this node migrates out, with the node each goes to (its own line only). */
  migrating: Map<number, string>
}

/** What the walk needs of the cluster connection. */
export interface WalkSource {
  /** The primaries of the slot map. */
  primaries(): NodeHandle[]
  /** The primary the slot map names for `slot`. */
  masterOf(slot: number): NodeHandle | undefined
  /** The handle of the node at `host:port`, made when it is new. */
  handle(address: string): NodeHandle
  /** Runs a command on one node. */
  onNode(node: NodeHandle, args: string[]): Promise<unknown>
}

/**
 * The keys matching `pattern` on every node that may hold some, each reply's keys as one batch
 * (`scanWalk` on each): the primaries of the slot map (the one owner of the slot, for a pattern
 * that pins a hash tag, `:1:user:{42}:*`), then the nodes they migrate a slot to
 * (`importingNodes`). The caller refreshes the map first: SCAN names no key, so no MOVED tells
 * a walk that slots moved.
 */
export async function* walkCluster(
  source: WalkSource,
  pattern: string,
  count: number,
): AsyncGenerator<Array<string | Buffer>> {
  const slot = patternSlot(pattern)
  const owner = slot === undefined ? undefined : source.masterOf(slot)
  const walked = owner === undefined ? source.primaries() : [owner]
  const more = await importingNodes(source, walked, owner === undefined ? undefined : slot)
  for (const node of [...walked, ...more]) {
    yield* scanWalk((args) => source.onNode(node, args), pattern, count)
  }
}

/**
 * The nodes a walk visits besides `walked` (the primaries of the map, or the one owner of a
 * pinned `slot`): those a walked primary migrates a slot to (the pinned one only, for a pinned
 * walk), as each says on its own line of `CLUSTER NODES`. A node nothing migrates to (a spare
 * primary, empty) is not visited: down or frozen, it would fail a walk it has nothing for. Never
 * rejects: a primary that does not answer adds none.
 */
export async function importingNodes(
  source: WalkSource,
  walked: readonly NodeHandle[],
  slot: number | undefined,
): Promise<NodeHandle[]> {
  const asked = slot === undefined ? walked : walked.slice(0, 1)
  const replies = await Promise.all(
    asked.map((node) =>
      source.onNode(node, ['CLUSTER', 'NODES']).then(parseClusterNodes, () => [] as NodeLine[]),
    ),
  )
  const known = new Set(walked.map((node) => node.address))
  const extra: NodeHandle[] = []
  for (const lines of replies) {
    const migrating = lines.find((line) => line.myself)?.migrating ?? new Map<number, string>()
    for (const [moving, target] of migrating) {
      if (slot !== undefined && moving !== slot) continue
      const line = lines.find((candidate) => candidate.id === target)
      if (line === undefined || !line.usable) continue
      const mapped = line.ownedSlot === undefined ? undefined : source.masterOf(line.ownedSlot)
      const node = mapped ?? source.handle(line.address)
      if (known.has(node.address)) continue
      known.add(node.address)
      extra.push(node)
    }
  }
  return extra
}

/** The lines of a `CLUSTER NODES` reply; `[]` for anything else. Linear in the reply's length. */
export function parseClusterNodes(reply: unknown): NodeLine[] {
  if (typeof reply !== 'string' && !(reply instanceof String) && !Buffer.isBuffer(reply)) return []
  const text = String(reply)
  if (text.length > MAX_REPLY_CHARS) return []
  const lines: NodeLine[] = []
  for (const raw of text.split('\n', MAX_LINES)) {
    const line = parseLine(raw.trim())
    if (line !== undefined) lines.push(line)
  }
  return lines
}

function parseLine(text: string): NodeLine | undefined {
  const fields = text.split(' ')
  const [id, endpoint, flagText] = fields
  if (id === undefined || endpoint === undefined || flagText === undefined || fields.length < 8) {
    return undefined
  }
  const flags = flagText.split(',')
  const address = endpoint.split('@')[0]?.split(',')[0] ?? ''
  const colon = address.lastIndexOf(':')
  const port = Number(address.slice(colon + 1))
  const hasAddress = colon > 0 && Number.isInteger(port) && port > 0 && port < 65_536
  const usable =
    hasAddress &&
    flags.includes('master') &&
    !flags.some((flag) => ['fail', 'fail?', 'handshake', 'noaddr'].includes(flag))
  let ownedSlot: number | undefined
  const migrating = new Map<number, string>()
  for (let i = 8; i < fields.length; i++) {
    const range = fields[i] as string
    if (range.startsWith('[')) {
      // `[<slot>->-<id>]` migrating out; `[<slot>-<-<id>]` importing.
      const out = /^\[(\d{1,5})->-([0-9a-f]{1,64})\]$/.exec(range)
      if (out !== null) migrating.set(Number(out[1]), out[2] as string)
      continue
    }
    const first = Number(range.split('-')[0])
    if (ownedSlot === undefined && Number.isInteger(first) && first >= 0 && first < 16_384) {
      ownedSlot = first
    }
  }
  return {
    id,
    address,
    myself: flags.includes('myself'),
    usable,
    ownedSlot,
    migrating,
  }
}
