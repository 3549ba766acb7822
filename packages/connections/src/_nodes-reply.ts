// The reader of a `CLUSTER NODES` reply, as much of it as a keyspace walk needs (see
// `_cluster-view.ts`): each node's id, address and flags, the slots it serves and, on a node's
// own line, the slots it migrates out. Bounded and linear in the reply's length, whatever it holds.

/** Beyond this, a reply is not read (a cluster of 1,000 nodes writes about 200 KB). */
const MAX_REPLY_CHARS = 8 * 1024 * 1024
/** Beyond this many lines, the rest is not read. */
const MAX_LINES = 10_000
/** The hash slots of a cluster: a line whose ranges add up to more is not read for slots. */
const SLOTS = 16_384

/** One line of `CLUSTER NODES`, as much of it as a walk needs. */
export interface NodeLine {
  id: string
  /** `host:port` (the announced IP, without the bus port or host name). */
  address: string
  myself: boolean
  /** A primary, not failed or suspected (`fail?`) and with an address. */
  usable: boolean
  /** One slot the node serves (to find its handle in the slot map), or `undefined`. */
  ownedSlot: number | undefined
  /** The slots the node serves, as inclusive ranges (none when they overlap past 16,384). */
  ranges: Array<[from: number, to: number]>
  /** The slots this node migrates out, with the node each goes to (its own line only). */
  migrating: Map<number, string>
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
  let ranges: Array<[number, number]> = []
  let served = 0
  const migrating = new Map<number, string>()
  for (let i = 8; i < fields.length; i++) {
    const range = fields[i] as string
    if (range.startsWith('[')) {
      // `[<slot>->-<id>]` migrating out; `[<slot>-<-<id>]` importing.
      const out = /^\[(\d{1,5})->-([0-9a-f]{1,64})\]$/.exec(range)
      if (out !== null) migrating.set(Number(out[1]), out[2] as string)
      continue
    }
    const [first, last = first] = range.split('-').map(slotOf)
    if (first === undefined || last === undefined || last < first || served > SLOTS) continue
    served += last - first + 1
    ranges.push([first, last])
  }
  // Ranges past the whole keyspace overlap: a reply out of step, whose slots are not trusted
  // (and whose reading, slot by slot, would not be bounded).
  if (served > SLOTS) ranges = []
  return {
    id,
    address,
    myself: flags.includes('myself'),
    usable,
    ownedSlot: ranges[0]?.[0],
    ranges,
    migrating,
  }
}

/** A slot number of a range, or `undefined` for anything else. */
function slotOf(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined
  const slot = Number(text)
  return slot < SLOTS ? slot : undefined
}
