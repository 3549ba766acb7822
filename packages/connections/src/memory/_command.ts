// What every command family of the in-memory backend shares: the call a handler receives and the
// table entry that declares it.
import type { Kind } from './_expiries.ts'
import type { Reply } from './_reply.ts'
import type { Store } from './store.ts'

/** One command being run: its store, the time it runs at, and its arguments as binary strings. */
export interface Call {
  readonly store: Store
  /** Milliseconds since the epoch, one value for the whole command (a script's included). */
  readonly now: number
  /** The arguments after the command name. */
  readonly args: readonly string[]
}

/** A command: its handler, Redis's arity (exact count with the name, or `-min`), whether it writes. */
export interface CommandSpec {
  run(call: Call): Reply
  arity: number
  write?: boolean
}

/** The commands of one family, by upper-case name. */
export type CommandTable = Record<string, CommandSpec>

/** Argument `i`, or `''` (arity was checked before the handler runs). */
export function arg(call: Call, i: number): string {
  return call.args[i] ?? ''
}

/** Whether an option word equals `word`, in any case. */
export function is(value: string | undefined, word: string): boolean {
  return value !== undefined && value.length === word.length && value.toUpperCase() === word
}

/** What a blocking call waits for: writes to `keys`, for at most `ms` milliseconds (0: no bound). */
export interface Wait {
  readonly keys: readonly string[]
  readonly ms: number
  /**
   * The kind of value the call takes from (`'list'` for a pop): it is served only while its key
   * holds one. None for a call that reads without taking (a stream read).
   */
  readonly takes?: Kind
  /**
   * One try: the reply, or `undefined` to wait on. The first try (no `key`) is the command's own,
   * with its errors (`WRONGTYPE`…). Later ones serve the call from `key`, one of its keys that was
   * written, as Redis serves a blocked client from a ready key: a list pop takes only from a list
   * there (a key of another type leaves it waiting), a stream read replies with that stream.
   */
  attempt(call: Call, key?: string): Reply | undefined
}

/** A command that may block (BLPOP, XREAD BLOCK…); its non-blocking form is its `CommandSpec`. */
export interface BlockingCommand {
  /**
   * The wait of this call, or `undefined` when this form does not block (XREAD without BLOCK):
   * it then runs as its `CommandSpec`. Throws the command's argument errors, and inside a
   * script (`script`) the error Redis gives a blocking form there.
   */
  wait(call: Call, script: boolean): Wait | undefined
}
