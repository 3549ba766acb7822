// A release that failed unsent or without an answer — refused while the connection is known down
// after a blip, dropped by a server that paused writes (`CLIENT PAUSE … WRITE`, a failover) after
// it timed out — left the lock or the permits held: for ever without a timeout when the caller
// does not try again, and `withLock`, `withPermit` and `await using` leave the caller nothing to
// try again with. So the release is handed to the background (`releaseLater`, with the same
// token: the scripts delete only what still holds it) and tried again once the server answers,
// unless the holder is used again first: a retry of the release, an extension sent (not a new
// acquisition: the background release of the stale token is what lets it take the lock).
import { ClosedError, type Connection, ResponseError, type Script } from '@cachex/core'
import { outcomeUnknown, releaseLater, unhold } from './_undo.ts'

/**
 * What a background try found, for the holder's next `release()` to answer: `'released'` (it
 * deleted the hold, or found it gone after a release that may have run) or `'lost'` (held by
 * another, or gone after a release known not to have run: it expired under its holder).
 */
export type ReleasedBehind = 'released' | 'lost'

/** The background release of one lock's or semaphore's hold, after its release failed. */
export class ReleaseHandoff {
  readonly #connection: Connection
  readonly #script: Script
  readonly #key: string
  /** The release script's reply when the hold was gone already. */
  readonly #gone: number
  /** Bumped by each use of the holder: a hand-off made before it is no longer wanted. */
  #generation = 0

  constructor(connection: Connection, script: Script, key: string, gone: number) {
    this.#connection = connection
    this.#script = script
    this.#key = key
    this.#gone = gone
  }

  /** Notes a use of the holder's hold (a release, an extension sent): drops a hand-off still waiting. */
  touch(): void {
    this.#generation++
  }

  /**
   * After a release of `token` failed with `error`: hands it to the background when `error` says
   * nothing ran or the outcome is unknown — not after an error reply (it ran and refused: trying
   * again would be refused again, or hide why), nor once the connection is closed (nothing runs
   * over it any more). The hold is forgotten here (see `unhold`), so that the background tries
   * are not taken for a hold of this process. `released` is called once a try ran — the hold is
   * then no longer this holder's — with what it found; `mayHaveRun` is whether a failed release
   * may have run on the server (then a hold found gone was released by it).
   */
  failed(
    error: unknown,
    token: string,
    mayHaveRun: boolean,
    released: (found: ReleasedBehind) => void,
  ): void {
    if (error instanceof ResponseError || error instanceof ClosedError) return
    const generation = ++this.#generation
    let ran = false
    // A background try that timed out may have run too: a later one that finds the hold gone
    // then found it released by it.
    let mayHaveDeleted = mayHaveRun
    unhold(this.#connection, this.#key, token)
    releaseLater(this.#connection, this.#script, this.#key, token, {
      wanted: () => !ran && generation === this.#generation,
      ran: (reply) => {
        ran = true
        released(reply === 1 || (reply === this.#gone && mayHaveDeleted) ? 'released' : 'lost')
      },
      failed: (failure) => {
        if (outcomeUnknown(failure)) mayHaveDeleted = true
      },
    })
  }
}
