// Coalesced member reads: the reads of one tick on one key by one command (`HGET`, `SISMEMBER`,
// `ZSCORE`) go to Redis as one command of many members (`HMGET`, `SMISMEMBER`, `ZMSCORE`), a lone
// one as itself, each caller answered with its own member's reply.
import { COALESCE_MAX, type Gathering, KeyedTick, sendCommand } from './_gathering.ts'
import { refusesCommand } from './_messages.ts'
import { ResponseError } from './errors.ts'
import type { Connection, RedisArgument } from './types.ts'

/** Each coalesced command, and the command of many members that answers it member by member. */
export const MANY_MEMBERS = { HGET: 'HMGET', SISMEMBER: 'SMISMEMBER', ZSCORE: 'ZMSCORE' } as const

/** A command `MemberReadCoalescer` gathers. */
export type MemberRead = keyof typeof MANY_MEMBERS

/** One caller: its member, and how to answer it with the raw reply. */
interface Waiter {
  member: RedisArgument
  resolve: (reply: unknown) => void
  reject: (error: unknown) => void
}

/** A batch whose many-member command awaits its replies. */
interface Sent {
  rkey: string
  waiters: Waiter[]
  /**
   * Each member's own command, sent by `closing()` behind the batch's: what each read is
   * answered from if the many-member command is refused; `undefined` until then.
   */
  again: Promise<unknown>[] | undefined
}

/**
 * Gathers the calls of one command (`HGET key field`, `SISMEMBER key member`, `ZSCORE key
 * member`) made in one tick, by key, and sends them when the microtask queue runs (no timer): the
 * command itself for a key read once, its many-member form for a key read several times (at most
 * `COALESCE_MAX` calls in all per batch). The many-member form answers each member as the command
 * would — nil or 0 for a missing member or key — and fails with `WRONGTYPE` for a key of another
 * type just as the command does, so each caller gets the reply or error its own command would
 * have. Different keys are not merged (Redis has no command for that): a tick of reads over
 * distinct keys sends one command each, as before. A user whose ACL refuses the many-member
 * command (`NOPERM`) but allows the command itself has each read of that batch sent again as its
 * own command, and every later read too. When `close()` comes while a batch of several members
 * awaits its reply, each member's own command is sent at once, behind it (`closing()`): the
 * connection answers what is in flight as it closes but refuses what is sent after, so the
 * callers, who called before `close()`, are answered from those if the batch is refused.
 */
export class MemberReadCoalescer {
  readonly #connection: Connection
  /** Whether replies come as text (`CommandRoute.text`). */
  readonly #text: boolean
  readonly #one: MemberRead
  /**
   * Set once the server refused the many-member command itself (an ACL user allowed `HGET` but
   * not `HMGET`): each read is then its own command, as with one call at a time.
   */
  #alone = false
  /** The batches of several members whose command awaits its replies (for `closing()`). */
  readonly #inFlight = new Set<Sent>()
  /** The reads gathered in this tick, by Redis key. */
  readonly #tick = new KeyedTick<Waiter>(COALESCE_MAX, (batches) => {
    for (const [rkey, waiters] of batches) this.#send(rkey, waiters)
  })

  constructor(connection: Connection, text: boolean, one: MemberRead) {
    this.#connection = connection
    this.#text = text
    this.#one = one
  }

  /** The raw reply of `args`: the command, its key, one member. */
  read(args: readonly RedisArgument[]): Promise<unknown> {
    const member = args[2] as RedisArgument
    return new Promise<unknown>((resolve, reject) => {
      this.#tick.add(String(args[1]), { member, resolve, reject })
    })
  }

  /** Sends what is gathered now: a command sent after it must not overtake it. */
  flush(): void {
    this.#tick.flush()
  }

  /**
   * `close()` is about to close the connection, which then refuses new commands: each batch
   * whose many-member command awaits its replies sends each member's own command now, behind
   * it, so that a refusal of that command (`NOPERM`) is answered from commands the connection
   * answers as it closes.
   */
  closing(): void {
    for (const sent of this.#inFlight) {
      if (sent.again !== undefined) continue
      const route = { key: sent.rkey, readonly: true, text: this.#text }
      sent.again = sent.waiters.map((waiter) => {
        const reply = sendCommand(this.#connection, [this.#one, sent.rkey, waiter.member], route)
        reply.catch(() => {}) // read only when the many-member command is refused
        return reply
      })
    }
  }

  #send(rkey: string, waiters: Waiter[]): void {
    if (waiters.length === 1 || this.#alone) {
      this.#sendEach(rkey, waiters)
      return
    }
    const route = { key: rkey, readonly: true, text: this.#text, callers: waiters.length }
    const many = MANY_MEMBERS[this.#one]
    const args: RedisArgument[] = new Array(waiters.length + 2)
    args[0] = many
    args[1] = rkey
    for (let i = 0; i < waiters.length; i++) args[i + 2] = (waiters[i] as Waiter).member
    const sent: Sent = { rkey, waiters, again: undefined }
    const inFlight = this.#inFlight
    inFlight.add(sent)
    sendCommand(this.#connection, args, route).then(
      (replies) => {
        inFlight.delete(sent)
        if (!Array.isArray(replies) || replies.length !== waiters.length) {
          const error = new ResponseError(
            `${many} of ${waiters.length} members replied ${Array.isArray(replies) ? `${replies.length} values` : typeof replies}`,
          )
          for (const waiter of waiters) waiter.reject(error)
          return
        }
        for (let i = 0; i < waiters.length; i++) (waiters[i] as Waiter).resolve(replies[i] ?? null)
      },
      (error: unknown) => {
        inFlight.delete(sent)
        if (refusesCommand(error, many)) {
          // Refused by the ACL before it ran: each read as its own command, from now on (a read
          // sent late overtakes nothing it could undo). A refusal of the key fails each alike.
          this.#alone = true
          this.#sendEach(rkey, waiters, sent.again)
          return
        }
        for (const waiter of waiters) waiter.reject(error)
      },
    )
  }

  /**
   * Each read of `rkey` answered from its own command (`HGET`, `SISMEMBER`, `ZSCORE`): the one
   * `closing()` sent (`again`), or one sent now.
   */
  #sendEach(rkey: string, waiters: Waiter[], again?: Promise<unknown>[]): void {
    const route = { key: rkey, readonly: true, text: this.#text }
    for (let i = 0; i < waiters.length; i++) {
      const waiter = waiters[i] as Waiter
      const reply =
        again?.[i] ?? sendCommand(this.#connection, [this.#one, rkey, waiter.member], route)
      reply.then(waiter.resolve, waiter.reject)
    }
  }
}

/** A `CommandSpec.send` function: the arguments of one `HGET` / `SISMEMBER` / `ZSCORE`, coalesced. */
export type SendMemberRead = (args: RedisArgument[]) => Promise<unknown>

/**
 * One `MemberReadCoalescer` per command, registered with `gathering`, as the `send` functions the
 * command families hand to `CacheContext.run`.
 */
export function memberReads(
  gathering: Gathering,
  connection: Connection,
  text: boolean,
): Record<MemberRead, SendMemberRead> {
  const sends = {} as Record<MemberRead, SendMemberRead>
  for (const one of Object.keys(MANY_MEMBERS) as MemberRead[]) {
    const reads = gathering.add(new MemberReadCoalescer(connection, text, one))
    sends[one] = (args) => gathering.use(reads).read(args)
  }
  return sends
}
