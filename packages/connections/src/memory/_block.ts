// The blocking commands of `memory://` (`./connection.ts`): which commands may block, and how a
// blocked call waits on its keys until it is served, times out, or its connection closes.
import { MAX_TIMER_MS } from '@cachex/core/internal'
import type { ReplyForm } from '../_reply-form.ts'
import type { BlockingCommand, Wait } from './_command.ts'
import { shape } from './_reply.ts'
import { LIST_BLOCKING } from './lists.ts'
import type { Store } from './store.ts'
import { STREAM_BLOCKING } from './streams.ts'

/** The commands that may block: BLPOP, BRPOP, BLMOVE, XREAD and XREADGROUP with BLOCK. */
export const BLOCKING = new Map<string, BlockingCommand>(
  Object.entries({ ...LIST_BLOCKING, ...STREAM_BLOCKING }),
)

/**
 * A blocking call: its reply when served now, else a promise of it, waiting in line on each of
 * its keys, served from one when it is written (`Store.serveReady`), until its timeout. While it
 * waits, `blocked` holds what wakes it with an error (the connection's `close()`).
 */
export function block(
  store: Store,
  blocked: Set<(error: Error) => void>,
  wait: Wait,
  args: string[],
  asText: ReplyForm,
): unknown {
  const first = wait.attempt({ store, now: Date.now(), args })
  if (first !== undefined) {
    store.fit()
    return shape(first, asText)
  }
  return new Promise<unknown>((resolve, reject) => {
    let stopWaiting = (): void => undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    const settle = (): void => {
      stopWaiting()
      clearTimeout(timer)
      blocked.delete(fail_)
    }
    const fail_ = (error: Error): void => {
      settle()
      reject(error)
    }
    blocked.add(fail_)
    stopWaiting = store.waitFor(
      wait.keys,
      (key) => {
        try {
          const reply = wait.attempt({ store, now: Date.now(), args }, key)
          // Nothing for it there: it waits on, in its place.
          if (reply === undefined) return
          settle()
          store.fit()
          resolve(shape(reply, asText))
        } catch (error) {
          fail_(error as Error)
        }
      },
      wait.takes,
    )
    // A timer holds at most 2^31 - 1 ms: a longer block (XREAD's BLOCK is any integer) re-arms.
    const arm = (ms: number): void => {
      timer = setTimeout(
        () => {
          if (ms > MAX_TIMER_MS) return arm(ms - MAX_TIMER_MS)
          settle()
          resolve(null)
        },
        Math.min(ms, MAX_TIMER_MS),
      )
    }
    if (wait.ms > 0) arm(wait.ms)
  })
}
