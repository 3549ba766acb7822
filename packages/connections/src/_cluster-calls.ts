// One cluster connection's calls once it is open: a command (split by slot, checked for one slot,
// or routed by its key; a blocking one on a dedicated client), a transaction, a command on one
// given node — each weighed against `maxInFlightBytes` and bounded by `socketTimeout`.
import { types } from 'node:util'
import {
  CachexError,
  type CommandRoute,
  ConnectionError,
  InvalidArgumentError,
  type RedisArgument,
} from '@cachex/core'
import { rejectAfterTurn } from './_after-turn.ts'
import type { BatchOverhead } from './_batch-within.ts'
import type { ClusterBlocking } from './_cluster-blocking.ts'
import type { NodeHandle } from './_cluster-nodes.ts'
import type { ClusterRoute } from './_cluster-route.ts'
import { commandsWeight, commandWeight, nameOf } from './_command-shape.ts'
import type { Deadlines } from './_deadlines.ts'
import { type ReplyForm, replyForm } from './_options.ts'
import { followTransaction } from './_redirects.ts'
import { type Atomic, crossSlot, impliedKey, routingOf, splitBySlot, wholeOf } from './_routing.ts'
import { noteEval } from './_scripts.ts'
import { keySlot } from './_slots.ts'
import type { Topology } from './_topology.ts'

/** What a `ClusterCalls` runs calls with. */
export interface ClusterCallsOptions {
  route: ClusterRoute
  topology: Topology
  deadlines: Deadlines
  /** The dedicated clients of blocking commands. */
  blocking: ClusterBlocking
  /** Whether the nodes' options are known, so that dedicated clients can be opened. */
  dedicatedBlocking: boolean
  /** Which cluster, for messages. */
  where: string
  /** A call's failure as cachex words it. */
  mapError: (error: unknown) => Error
}

/** The calls of one open cluster connection (see `run`, `transaction`, `onNode`). */
export class ClusterCalls {
  readonly #options: ClusterCallsOptions

  constructor(options: ClusterCallsOptions) {
    this.#options = options
  }

  /**
   * Runs one command: split by slot, checked for one slot, or routed by its key; bounded. `batch`:
   * the overhead of the batch admitted with its callers it is part of (see `Deadlines.track`).
   */
  run(
    args: RedisArgument[],
    route: CommandRoute | undefined,
    batch?: BatchOverhead,
  ): Promise<unknown> {
    try {
      return this.#run(args, route, batch)
    } catch (error) {
      // A raw route of the caller's that could not be read (a revoked Proxy, a getter that
      // throws, a key whose type changed between two reads): refused, not thrown.
      const where = this.#options.where
      return Promise.reject(
        error instanceof CachexError
          ? error
          : new InvalidArgumentError(
              `the command not sent to ${where}: its arguments or route could not be read (a revoked Proxy, or a getter that throws?)`,
              { cause: error },
            ),
      )
    }
  }

  /** `run`, which may throw as it reads a raw route of the caller's. */
  #run(
    args: RedisArgument[],
    route: CommandRoute | undefined,
    batch: BatchOverhead | undefined,
  ): Promise<unknown> {
    const { route: routes, deadlines, where } = this.#options
    const given = route?.key
    if (given !== undefined && typeof given !== 'string' && !isBuffer(given)) {
      // A raw route's key names the slot: hashed as text, anything else throws in `keySlot`.
      return Promise.reject(
        new InvalidArgumentError(
          `the command not sent to ${where}: a route's key must be a string or a Buffer`,
        ),
      )
    }
    const weight = commandWeight(args, route?.callers)
    const refused = deadlines.refuse(weight, nameOf(args), where)
    if (refused !== undefined) return rejectAfterTurn(refused)
    const { name, split, atomic } = routingOf(args)
    if (name === 'EVAL') noteEval(args)
    const readonly = route?.readonly === true
    const text = replyForm(route)
    const blockMs = route?.blockMs
    if (blockMs !== undefined && blockMs > 0) {
      const keys = atomic?.keys(args)
      const error = keys === undefined ? undefined : crossSlot(name, keys, atomic as Atomic)
      if (error !== undefined) return Promise.reject(error)
      const key = keys?.[0] ?? route?.key ?? impliedKey(name, args)
      return this.#runBlocking(args, key, readonly, text, name, weight, blockMs)
    }
    let reply: Promise<unknown>
    if (split !== undefined && route?.atomic === true) {
      // Kept whole, as asked (not split, not retried key by key): one slot, or a CrossSlotError.
      const whole = wholeOf(split)
      const error = crossSlot(name, whole.keys(args), whole)
      if (error !== undefined) return Promise.reject(error)
      const redirects = route?.tryAgain === false ? routes.noTryAgain : routes.redirects
      reply = routes.send(args[1], readonly, args, text, undefined, redirects)
    } else if (split !== undefined) {
      // Its parts' integer replies are added up: numbers, whatever `route.digits` says.
      const parts = text === 'digits' ? route?.text === true : text
      reply = splitBySlot(split, args, (key, part, kind) =>
        routes.send(key, readonly, part, parts, kind),
      )
    } else {
      let key: RedisArgument | undefined
      if (atomic !== undefined) {
        const keys = atomic.keys(args)
        const error = crossSlot(name, keys, atomic)
        if (error !== undefined) return Promise.reject(error)
        key = keys[0] ?? route?.key
      } else {
        key = route?.key ?? impliedKey(name, args)
      }
      const redirects = route?.tryAgain === false ? routes.noTryAgain : routes.redirects
      reply = routes.send(key, readonly, args, text, undefined, redirects)
    }
    return this.#bound(reply, name, weight, batch)
  }

  /**
   * `commands` as one `MULTI … EXEC` on the primary of `slot` (see `Connection.transaction`),
   * weighed and bounded as one command.
   */
  transaction(
    slot: number,
    commands: RedisArgument[][],
    route: CommandRoute | undefined,
  ): Promise<unknown[]> {
    const { deadlines, where, mapError } = this.#options
    const weight = commandsWeight(commands)
    const refused = deadlines.refuse(weight, 'EXEC', where)
    if (refused !== undefined) return rejectAfterTurn(refused)
    const exec = this.#transact(slot, commands, replyForm(route))
    return deadlines.track(exec, 'EXEC', mapError, weight)
  }

  /** Runs a command on one given node (SCAN, FLUSHDB on each primary); bounded. */
  onNode(node: NodeHandle, args: RedisArgument[]): Promise<unknown> {
    const { deadlines, where, topology } = this.#options
    const weight = commandWeight(args)
    const refused = deadlines.refuse(weight, nameOf(args), where)
    if (refused !== undefined) return rejectAfterTurn(refused)
    return this.#bound(topology.sendTo(node, args, false), String(args[0]), weight)
  }

  /**
   * `commands` as one `MULTI … EXEC` chain on the primary of `slot`, following `MOVED`, `ASK`,
   * `TRYAGAIN` and `READONLY` as a command does (see `followTransaction`).
   */
  async #transact(slot: number, commands: RedisArgument[][], text: ReplyForm): Promise<unknown[]> {
    const { topology, mapError, where, route } = this.#options
    if (topology.table[slot] === undefined) topology.build()
    const shard = topology.table[slot]
    if (shard === undefined) {
      void topology.refresh()
      throw new ConnectionError(
        `no primary of ${where} serves hash slot ${slot} (the map is being refreshed): the transaction was not sent`,
      )
    }
    return followTransaction(route.redirects, slot, shard.master, (node, asking) =>
      topology.transaction(node, commands, text, mapError, asking),
    )
  }

  /**
   * A blocking command (`route.blockMs`) on a dedicated client of the primary of `key`'s slot
   * (`ClusterBlocking`, which follows redirects), so that it holds up none of the node's other
   * calls; bounded by `socketTimeout + blockMs`. A handed-in cluster whose node options are
   * unknown runs it on the node's own client instead.
   */
  #runBlocking(
    args: RedisArgument[],
    key: RedisArgument | undefined,
    readonly: boolean,
    text: ReplyForm,
    name: string,
    weight: number,
    blockMs: number,
  ): Promise<unknown> {
    const { topology, deadlines, route, mapError } = this.#options
    topology.build()
    const slot = key === undefined ? undefined : keySlot(key)
    const node = slot === undefined ? undefined : topology.table[slot]?.master
    if (slot === undefined || node === undefined || !this.#options.dedicatedBlocking) {
      return deadlines.track(route.send(key, readonly, args, text), name, mapError, weight, blockMs)
    }
    return this.#options.blocking.run(args, slot, node, text, blockMs)
  }

  #bound(
    reply: Promise<unknown>,
    command: string,
    weight: number,
    batch?: BatchOverhead,
  ): Promise<unknown> {
    return this.#options.deadlines.track(reply, command, this.#options.mapError, weight, 0, batch)
  }
}

/** Whether `value` is a Buffer, asked without a Proxy trap (`Buffer.isBuffer` may throw). */
function isBuffer(value: unknown): boolean {
  return types.isUint8Array(value) && Buffer.isBuffer(value)
}
