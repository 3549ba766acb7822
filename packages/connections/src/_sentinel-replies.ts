// The replies of a sentinel to `SENTINEL MASTER`, `REPLICAS` and `SENTINELS`, read as a view.

/** A data node or a sentinel, as the sentinels report it. */
export interface NodeAddress {
  host: string
  port: number
}

/** What one sentinel says of the monitored service (`SENTINEL MASTER`, `REPLICAS`, `SENTINELS`). */
export interface SentinelView {
  /** The sentinel that answered, as `host:port`. */
  from: string
  /** The primary it knows, with its flags (`s_down`, `failover_in_progress`…). */
  master: NodeAddress & { flags: string[]; epoch: number; failoverTimeoutMs: number }
  /** The replicas it knows, with their flags. */
  replicas: Array<NodeAddress & { flags: string[] }>
  /** The other sentinels it knows. */
  sentinels: NodeAddress[]
}

/** The view of the sentinel at `from`, out of its three replies. */
export function viewOf(
  from: string,
  master: unknown,
  replicas: unknown,
  sentinels: unknown,
): SentinelView {
  const fields = pairs(master)
  return {
    from,
    master: {
      ...address(fields),
      flags: (fields.flags ?? '').split(','),
      epoch: finiteOr(fields['config-epoch'], 0),
      failoverTimeoutMs: finiteOr(fields['failover-timeout'], 180_000),
    },
    replicas: list(replicas).map((reply) => {
      const replica = pairs(reply)
      return { ...address(replica), flags: (replica.flags ?? '').split(',') }
    }),
    sentinels: list(sentinels).map((reply) => address(pairs(reply))),
  }
}

/** A flat `[field, value, …]` reply (or a map) as an object. */
function pairs(reply: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1])
  } else if (reply instanceof Map) {
    for (const [key, value] of reply) out[String(key)] = String(value)
  } else if (typeof reply === 'object' && reply !== null) {
    for (const [key, value] of Object.entries(reply)) out[key] = String(value)
  }
  return out
}

function list(reply: unknown): unknown[] {
  return Array.isArray(reply) ? reply : []
}

/**
 * A port as a sentinel spells it (a reply's `port`, `+switch-master … <ip> <port>`): digits only,
 * else `NaN`, an invalid address (`Number()` would take `0x10`, `1e3`, `' 6379'` or `''` as 0).
 */
export function portOf(text: string | undefined): number {
  return text !== undefined && /^[0-9]{1,5}$/.test(text) ? Number(text) : Number.NaN
}

/** A node's address as a sentinel reports it; the port strictly digits (else `NaN`: invalid). */
function address(fields: Record<string, string>): NodeAddress {
  return { host: fields.ip ?? '', port: portOf(fields.port) }
}

/** A number a sentinel reports, or `fallback` where it reports something else. */
function finiteOr(text: string | undefined, fallback: number): number {
  const n = Number(text ?? fallback)
  return Number.isFinite(n) ? n : fallback
}
