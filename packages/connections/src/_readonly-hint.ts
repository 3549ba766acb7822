// The hint of a write a replica refused (`READONLY`) on a connection whose location is static (a
// `standalone` location, the first URL of a `replica` location): the server there is no longer,
// or never was, the primary, and nothing will change that but the configuration.
import { type CachexError, ResponseError } from '@cachex/core'

/** How a topology uses a `StandaloneConnection` (the second argument of its constructor). */
export interface NodeRole {
  /**
   * The location is the user's, and nothing moves writes elsewhere (`standalone`, `replica`): a
   * `READONLY` reply says that the server is a replica and that a static location does not follow
   * failovers (`withReadonlyHint`). Not for a Sentinel connection's nodes, which meet `READONLY`
   * while the sentinels switch primaries, and handle it. @default false
   */
  staticLocation?: boolean
}

/** The role of the nodes of `standalone` and `replica`. */
export const STATIC_LOCATION: NodeRole = Object.freeze({ staticLocation: true })

/** What to do, after the server at the location (see `withReadonlyHint`). */
const READONLY_HINT =
  "is a replica: a static location does not follow failovers — point the location at the primary, or use Sentinel (client: 'sentinel') so that writes follow the primary — see docs/topologies.md"

/** The error reply of a write a replica refuses (`replica-read-only yes`, the default). */
const READONLY_REPLY = /^READONLY /

/**
 * An error reply of a connection with a static location (`where`: its URL, password redacted, or
 * "the given client"), with a hint when it is `READONLY`: the server writes go to is a replica —
 * given by mistake, or a primary demoted by a failover (`FAILOVER`, a sentinel's, a managed
 * service's), which a static location does not follow. Not for a Sentinel connection, whose
 * writes meet `READONLY` only while the sentinels switch primaries, nor for a cluster. Still a
 * `ResponseError` (`E_RESPONSE`), the server's text first; `where` holds no password.
 */
export function withReadonlyHint(error: CachexError, where: string): CachexError {
  if (
    !(error instanceof ResponseError) ||
    error.code !== 'E_RESPONSE' ||
    !READONLY_REPLY.test(error.message) ||
    error.message.includes(READONLY_HINT)
  ) {
    return error
  }
  return new ResponseError(
    `${error.message} (the server this cache writes to, ${where}, ${READONLY_HINT})`,
    { cause: error.cause },
  )
}
