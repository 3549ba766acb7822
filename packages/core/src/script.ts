import { createHash } from 'node:crypto'
import { isUnknownCommand } from './_messages.ts'
import { ResponseError } from './errors.ts'
import { keySlot, SLOT_COUNT } from './key-slot.ts'
import type { CommandRoute, Connection, RedisArgument } from './types.ts'

/** A Lua script with its SHA1, run with `EVALSHA` and loaded on first use. */
export interface Script {
  /** The Lua source. */
  readonly source: string
  /** The SHA1 of the source, as Redis names the script. */
  readonly sha1: string
}

/** Prepares a Lua script for `runScript`. Call it once, at module level. */
export function defineScript(source: string): Script {
  return { source, sha1: createHash('sha1').update(source).digest('hex') }
}

/** What `runScript` knows of where scripts ran, on one connection. */
interface Ran {
  /** `Connection.generation` when it was learnt: a new one forgets it. */
  generation: number | undefined
  /**
   * By script (its SHA1), the hash slots where it ran: one bit per slot (a cluster node holds
   * the scripts it ran). On a single server every slot is the same node; noting them apart costs
   * one `EVAL` per slot used, once.
   */
  slots: Map<string, Uint8Array>
  /**
   * Whether the server answered `EVALSHA` with `ERR unknown command` (renamed or disabled there,
   * `EVAL` kept): every script goes with `EVAL` from then on, for the connection's life.
   */
  evalOnly: boolean
}

const ranOn = new WeakMap<Connection, Ran>()

/**
 * Runs `script`: with `EVAL` where it has not run yet (on this connection, in this hash slot,
 * since the connection's `generation` last changed), with `EVALSHA` after. `EVALSHA` answers
 * `NOSCRIPT` where the server does not have the script (a new server, one that restarted or
 * failed over): retried with `EVAL`, the script would run after the commands sent behind it — a
 * write overtaken by a later delete of the same key. So `EVALSHA` goes only where the script has
 * run; a `NOSCRIPT` (a `SCRIPT FLUSH`, or a connection without `generation`) still says the node
 * lost its scripts, and every script goes with `EVAL` again until it has run.
 * A read-only route (`route.readonly`, run on a replica) goes with `EVALSHA` at once: a read run
 * late overtakes nothing it could undo.
 * A server with `EVALSHA` renamed or disabled (`ERR unknown command 'EVALSHA'`; nothing ran) has
 * the script sent again with `EVAL`, after what was sent behind it, as for a `NOSCRIPT`; once per
 * connection: every script goes with `EVAL` on it from then on.
 */
export async function runScript(
  connection: Connection,
  script: Script,
  keys: readonly RedisArgument[],
  args: readonly RedisArgument[],
  route: CommandRoute = { key: keys[0] },
): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args]
  let ran = ranOn.get(connection)
  if (ran === undefined) {
    ran = { generation: connection.generation, slots: new Map(), evalOnly: false }
    ranOn.set(connection, ran)
  }
  if (ran.evalOnly) return connection.command(['EVAL', script.source, ...tail], route)
  if (route.readonly === true) {
    try {
      return await connection.command(['EVALSHA', script.sha1, ...tail], route)
    } catch (error) {
      if (!isNoScript(error) && !evalshaUnknown(ran, error)) throw error
      return connection.command(['EVAL', script.source, ...tail], route)
    }
  }
  if (ran.generation !== connection.generation) {
    ran.generation = connection.generation
    ran.slots.clear()
  }
  const scripts = ran.slots
  const slot = route.key === undefined ? 0 : keySlot(route.key)
  const byte = slot >>> 3
  const bit = 1 << (slot & 7)
  const slots = scripts.get(script.sha1)
  if (slots !== undefined && (slots[byte] as number) & bit) {
    try {
      return await connection.command(['EVALSHA', script.sha1, ...tail], route)
    } catch (error) {
      if (!isNoScript(error) && !evalshaUnknown(ran, error)) throw error
      // Unknown to the server, `EVALSHA` is not sent again (`evalOnly`): nor noted where it ran.
      if (ran.evalOnly) return connection.command(['EVAL', script.source, ...tail], route)
      scripts.clear()
    }
  }
  const generation = ran.generation
  const reply = await connection.command(['EVAL', script.source, ...tail], route)
  // Ran where the connection sent it then: another node may serve the slot since.
  if (ran.generation !== generation) return reply
  let noted = scripts.get(script.sha1)
  if (noted === undefined) {
    noted = new Uint8Array(SLOT_COUNT / 8)
    scripts.set(script.sha1, noted)
  }
  noted[byte] = (noted[byte] as number) | bit
  return reply
}

/** Whether `error` says the server does not know `EVALSHA`; if so, notes it on `ran`. */
function evalshaUnknown(ran: Ran, error: unknown): boolean {
  if (!isUnknownCommand(error, 'evalsha')) return false
  ran.evalOnly = true
  return true
}

function isNoScript(error: unknown): boolean {
  return error instanceof ResponseError && error.message.startsWith('NOSCRIPT')
}
