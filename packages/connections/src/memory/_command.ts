// What every command family of the in-memory backend shares: the call a handler receives and the
// table entry that declares it.
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
