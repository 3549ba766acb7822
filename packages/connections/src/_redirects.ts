import { ConnectionError, type RedisArgument, ResponseError } from '@cachex/core'
import { bounded, markUnsent, READONLY_REPLY, TRYAGAIN_REPLY } from '@cachex/core/internal'
import { ErrorReply } from '@redis/client'
import type { NodeHandle } from './_cluster-nodes.ts'
import { ownsSlot } from './_cluster-read-order.ts'
import { isClientClosed } from './_errors.ts'
import { validAddress } from './_node-address.ts'
import type { ReplyForm } from './_options.ts'
import { type Kind, keyByKey, MSET } from './_routing.ts'
import type { Topology } from './_topology.ts'

// What a cluster call does when a node answers `MOVED`, `ASK`, `TRYAGAIN` or `READONLY` instead
// of a reply.

/** The first wait before a `TRYAGAIN` is retried, then doubled up to `TRYAGAIN_MAX_MS`. */
export const TRYAGAIN_FIRST_MS = 10
/** The longest wait between two `TRYAGAIN` retries. */
export const TRYAGAIN_MAX_MS = 100
/** How many times a split command retries `TRYAGAIN` whole before going key by key. */
const TRYAGAIN_WHOLE = 3
/** The characters of a redirection an error message quotes at most. */
const QUOTED_REDIRECT = 128
/**
 * A host a redirection may name: a host name or an IP address (IPv6 without brackets, maybe with
 * a zone), at most 255 characters — not whatever a broken or hostile node sends.
 */
const HOST = /^[A-Za-z0-9._:%-]{1,255}$/

/** What `followRedirects` needs of the cluster connection: its map and its bounds. */
export interface RedirectBounds {
  topology: Topology
  /** How many `MOVED`/`ASK` one call follows (`maxCommandRedirections`). */
  maxRedirects: number
  /** How long a call may retry `TRYAGAIN`: most of `socketTimeout`. */
  retryBudgetMs: number
  /** Whether the connection is closed: nothing is followed then. */
  closed(): boolean
}

/** What following a redirection needs of the cluster connection, with its senders. */
export interface RedirectContext extends RedirectBounds {
  /** One attempt: to the node cachex's map names for `slot`. */
  sendOnce(
    slot: number,
    readonly: boolean,
    args: RedisArgument[],
    text: ReplyForm,
  ): Promise<unknown>
  /** Sends a single-slot command by its key, following redirections itself. */
  send(
    key: RedisArgument | undefined,
    readonly: boolean,
    args: RedisArgument[],
    text: ReplyForm,
  ): Promise<unknown>
}

/**
 * How a call that met a redirection is sent again: to a node (`MOVED`), to a node after `ASKING`
 * (`ASK`), or where the map now says (`TRYAGAIN`, a node client closed under cachex).
 */
export interface Resend {
  to(node: NodeHandle): Promise<unknown>
  asking(node: NodeHandle): Promise<unknown>
  again(): Promise<unknown>
  /** For a split command (a read, a delete, `MSET`) that still meets `TRYAGAIN`: one key at a time. */
  keyByKey?: (() => Promise<unknown>) | undefined
  /**
   * For an error that is not a redirection but that this call may still follow (a blocked read
   * whose stream a reshard moved): how to send the call again, counted as a redirection, or
   * `undefined` when the error is the call's.
   */
  otherwise?: ((error: Error) => Promise<(() => Promise<unknown>) | undefined>) | undefined
  /**
   * The call went to the node the map names as its slot's primary (a write): a `READONLY` reply
   * says that node is a replica now, and the map is stale.
   */
  toPrimary?: boolean | undefined
}

/** The `Resend` of one command (`kind`: the split read or delete it is part of, if any). */
export function commandResend(
  context: RedirectContext,
  slot: number,
  readonly: boolean,
  args: RedisArgument[],
  text: ReplyForm,
  kind?: Kind,
): Resend {
  return {
    to: (node) => context.topology.sendTo(node, args, text),
    asking: (node) => context.topology.asking(node, args, text),
    again: () => context.sendOnce(slot, readonly, args, text),
    keyByKey:
      kind !== undefined && args.length > (kind === MSET ? 3 : 2)
        ? () => keyByKey(kind, args, (key, part) => context.send(key, readonly, part, text))
        : undefined,
    toPrimary: !readonly,
  }
}

/**
 * Runs a transaction with `run` on the primary of `slot` (`first` when the map names none), and
 * follows what it meets as a command does (a transaction refused as it was queued ran nothing,
 * so it is sent again whole). Its replies holding a `READONLY` error say that it ran on a replica
 * (a demoted primary): every write there fails — a plain write is refused with `MOVED` as it is
 * queued, a script at its first write — so it wrote nothing, and is followed as a `READONLY`
 * reply (see `followRedirects`); when that runs out, those replies are its result.
 */
export function followTransaction(
  context: RedirectBounds,
  slot: number,
  first: NodeHandle,
  run: (node: NodeHandle, asking: boolean) => Promise<unknown[]>,
): Promise<unknown[]> {
  let onReplica: { error: Error; replies: unknown[] } | undefined
  const attempt = async (node: NodeHandle, asking = false): Promise<unknown[]> => {
    const replies = await run(node, asking)
    const error = replies.find(isReadOnly)
    if (error === undefined) return replies
    onReplica = { error: error as Error, replies }
    throw error
  }
  const again = () => attempt(context.topology.table[slot]?.master ?? first)
  const followed = again().catch(
    (error: unknown) =>
      followRedirects(context, error, slot, {
        to: (node) => attempt(node),
        asking: (node) => attempt(node, true),
        again,
        toPrimary: true,
      }) as Promise<unknown[]>,
  )
  return followed.catch((error: unknown) => {
    if (onReplica !== undefined && error === onReplica.error) return onReplica.replies
    throw error
  })
}

/**
 * Follows what a node answered instead of a reply, bounded by `maxCommandRedirections` and, for
 * `TRYAGAIN`, by most of `socketTimeout`:
 * - `MOVED <slot> <host:port>`: the slot lives there now; the map says so at once for that slot
 *   and is refreshed soon, and the command goes there — to any address, connecting when needed.
 *   An empty host (`:port`, an unknown endpoint) is the host of the node that answered (see
 *   `redirectAddress`); a target that is no valid address is not followed: the call fails with a
 *   `ResponseError` quoting the reply, nothing is connected to and the map is left as it is.
 * - `ASK <slot> <host:port>`: the key is being migrated; the command goes there after
 *   `ASKING`, even to a primary that owns no slot yet (node-redis finds only slot owners).
 * - `TRYAGAIN`: a multi-key command met a slot half migrated; retried after 10 ms, doubling up
 *   to 100 ms, until the migration of the slot is done; the `ASK` that sends a retry back to
 *   the importing node (the keys are on neither node, or only some on the importing one) is not
 *   counted against `maxCommandRedirections`, and past the budget (at once for a route with
 *   `tryAgain: false`, whose context has none) the call fails with the `TRYAGAIN`. A part of a
 *   split command (`MGET`, `EXISTS`, `TOUCH`, `DEL`, `UNLINK`; an `MSET` split by slot:
 *   `resend.keyByKey`) that still meets it after 3 tries runs one key at a time instead (each key
 *   then follows its own `ASK`; an `MSET` part as a `SET` per key), as a migration left half done
 *   would otherwise fail it for as long as it lasts — an `MSET` after its other parts were
 *   stored. An `MSET` of one slot, or one kept whole (`route.atomic`), stays one command: refused,
 *   it wrote nothing, and it fails with the `TRYAGAIN`.
 * - a node client closed under cachex (node-redis dropped the node): sent again through the map;
 *   past `maxCommandRedirections`, a `ConnectionError` marked unsent (never a `ClosedError`, which
 *   says the cache was closed).
 * - `READONLY` from the node the map names as the slot's primary (`resend.toPrimary`): it is a
 *   replica now, and wrote nothing (a replica refuses every write; a script stops at its first).
 *   The map is refreshed, then the call goes again where it says (counted as a redirection).
 * - what `resend.otherwise` says it follows (counted as a redirection).
 * Anything else is the call's error; a lost connection or `CLUSTERDOWN` also sets cachex
 * watching the nodes and the slot map. `resend` sends the call again (a command, or a
 * transaction's chain).
 */
export async function followRedirects(
  context: RedirectBounds,
  first: unknown,
  slot: number,
  resend: Resend,
): Promise<unknown> {
  let error = first
  let redirects = 0
  let wait = TRYAGAIN_FIRST_MS
  let retryingSince = 0
  let tries = 0
  /** The error followed last was a `TRYAGAIN`: the call was just sent again. */
  let afterTryAgain = false
  /** The node the call was sent to last, when a redirection named it (else: the map's). */
  let sentTo: NodeHandle | undefined
  for (;;) {
    if (!(error instanceof Error) || context.closed()) throw error
    // The text of a server's error reply: node-redis's, or the `ResponseError` made of it.
    const replied = error instanceof ErrorReply || error instanceof ResponseError
    const message = replied ? error.message : ''
    let reply: Promise<unknown>
    if (message.startsWith('MOVED ')) {
      const address = redirectAddress(context, message, slot, sentTo, resend.toPrimary === true)
      if (++redirects > context.maxRedirects) throw error
      const node = context.topology.moved(slot, address)
      ownsSlot(node, slot)
      reply = resend.to(node)
      sentTo = node
    } else if (message.startsWith('ASK ')) {
      // The `ASK` of a `TRYAGAIN` retry (the old owner sends the command back to the importing
      // node, which says `TRYAGAIN` again) is not counted: the retry budget bounds that loop, and
      // its error is the `TRYAGAIN`.
      const address = redirectAddress(context, message, slot, sentTo, resend.toPrimary === true)
      if (!afterTryAgain && ++redirects > context.maxRedirects) throw error
      const node = context.topology.askTarget(address)
      reply = resend.asking(node)
      sentTo = node
    } else if (message.startsWith(TRYAGAIN_REPLY)) {
      const now = performance.now()
      retryingSince ||= now
      if (++tries > TRYAGAIN_WHOLE && resend.keyByKey !== undefined) return resend.keyByKey()
      if (now - retryingSince + wait > context.retryBudgetMs) throw error
      await delay(wait)
      wait = Math.min(wait * 2, TRYAGAIN_MAX_MS)
      reply = resend.again()
      sentTo = undefined
    } else if (resend.toPrimary === true && message.startsWith(READONLY_REPLY)) {
      // The primary of the map is a replica now (a failback the map has not seen): a client of it
      // in READONLY mode (it was met as a replica) gets no MOVED for a script, which fails at its
      // first write — nothing was written. The map is asked for first, then the call goes again.
      if (++redirects > context.maxRedirects) throw error
      await context.topology.refresh()
      reply = resend.again()
      sentTo = undefined
    } else if (isClientClosed(error)) {
      // Nothing was sent; node-redis's error would say the connection was closed, which it is not.
      if (++redirects > context.maxRedirects) throw closedUnder(error)
      context.topology.forgetClosed()
      reply = resend.again()
      sentTo = undefined
    } else {
      const again =
        resend.otherwise === undefined || redirects >= context.maxRedirects
          ? undefined
          : await resend.otherwise(error)
      if (again === undefined) {
        if (!replied || message.startsWith('CLUSTERDOWN')) context.topology.watch()
        throw error
      }
      redirects++
      reply = again()
      sentTo = undefined
    }
    // Only the first redirection of a retry is free; each retry waits, within the budget.
    afterTryAgain = message.startsWith(TRYAGAIN_REPLY)
    try {
      return await reply
    } catch (next) {
      error = next
    }
  }
}

/**
 * A call whose node clients node-redis kept closing under it (`ClientClosedError`, more times than
 * `maxCommandRedirections`): a `ConnectionError` marked unsent (`markUnsent`), safe to retry.
 */
function closedUnder(error: Error): ConnectionError {
  return markUnsent(
    new ConnectionError(
      'node-redis closed the client of each cluster node this command was sent to (as it does to a node it drops from its slot map) before it was sent; the command was not sent — try again',
      { cause: error },
    ),
  )
}

/** Whether `reply` is a replica's refusal of a write (`READONLY`), raw or mapped. */
function isReadOnly(reply: unknown): boolean {
  return (
    (reply instanceof ErrorReply || reply instanceof ResponseError) &&
    reply.message.startsWith(READONLY_REPLY)
  )
}

/**
 * The address (`host:port`) a `MOVED`/`ASK` reply (`message`) sends the call to. An empty host
 * (`:port`: Redis 7's unknown endpoint) means the host of the node that answered, as in
 * `CLUSTER SLOTS`: `answered`, the node the call was sent to when a redirection named it, else
 * the node the map names for `slot` — its primary for a write (`toPrimary`), else the host its
 * readers share (with replicas on several hosts, the one that answered is not known). Throws a
 * `ResponseError` quoting the reply (cut short) when there is no valid address to go to
 * (`validAddress`, and a host name or IP address of at most 255 characters): no target, a port
 * out of 1..65535 or not a number, an empty host that cannot be resolved.
 */
export function redirectAddress(
  context: RedirectBounds,
  message: string,
  slot: number,
  answered: NodeHandle | undefined,
  toPrimary: boolean,
): string {
  // `MOVED <slot> <host:port>`: the third word.
  const words = message.trim().split(' ')
  let address = words.length >= 3 ? (words[2] as string) : ''
  if (address.startsWith(':')) {
    const host = answered?.host ?? answeringHost(context, slot, toPrimary)
    address = host === undefined ? '' : `${host}${address}`
  }
  if (validAddress(address) && HOST.test(address.slice(0, address.lastIndexOf(':')))) {
    return address
  }
  throw new ResponseError(
    `a cluster node answered ${JSON.stringify(bounded(message, QUOTED_REDIRECT))}, a redirection to no valid address (host:port, the port an integer in 1..65535; an empty host is the answering node's, when known); not followed`,
  )
}

/** The host of the node the map names for `slot` (see `redirectAddress`), if one. */
function answeringHost(
  context: RedirectBounds,
  slot: number,
  toPrimary: boolean,
): string | undefined {
  const shard = context.topology.table[slot]
  if (shard === undefined) return undefined
  if (toPrimary) return shard.master.host
  const host = shard.readers[0]?.host ?? shard.master.host
  return shard.readers.every((node) => node.host === host) ? host : undefined
}

/**
 * How long a call may retry `TRYAGAIN` (`RedirectContext.retryBudgetMs`): 80 % of
 * `socketTimeout` (`timeoutMs`), or of 5 seconds without one.
 */
export function tryAgainBudgetMs(timeoutMs: number | undefined): number {
  return Math.round((timeoutMs ?? 5000) * 0.8)
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
