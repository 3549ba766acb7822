// The local tier's guard against the race between a read's reply and an invalidation of its key:
// they arrive on two sockets, in either order.

/** What `Flights.begin` hands out and `Flights.settle` takes back. */
export interface FlightToken {
  readonly sequence: number
  readonly epoch: number
}

/** Operations on a key in flight, and the invalidations of the key since. */
interface InFlight {
  /** Reads (or writes) of the key in flight. */
  count: number
  /** The sequence number of the key's last invalidation. */
  invalidatedAt: number
  /** That of its last invalidation not reported by a replica (see `Flights.invalidated`). */
  writtenAt: number
}

/**
 * Sequence numbers that tell whether a key was invalidated while an operation on it was in
 * flight: an operation records the sequence when it begins, every invalidation of a key with an
 * operation in flight stamps the key, and an operation whose key was stamped after it began must
 * not store its value. A new epoch (tracking lost or back, a flush) spoils every operation in
 * flight.
 */
export class Flights {
  readonly #inFlight = new Map<string, InFlight>()
  /** Bumped by every invalidation. */
  #sequence = 0
  #epoch = 0

  /** Spoils every operation in flight. */
  newEpoch(): void {
    this.#epoch++
  }

  /**
   * Notes an invalidation of `rkey`. One reported by a replica spoils the reads in flight, not
   * the writes: the replica applies writes after its primary, which reports any later write too.
   */
  invalidated(rkey: string, replica: boolean): void {
    const sequence = ++this.#sequence
    const flight = this.#inFlight.get(rkey)
    if (flight === undefined) return
    flight.invalidatedAt = sequence
    if (!replica) flight.writtenAt = sequence
  }

  /** Registers an operation on `rkey` in flight. */
  begin(rkey: string): FlightToken {
    const flight = this.#inFlight.get(rkey)
    if (flight === undefined) this.#inFlight.set(rkey, { count: 1, invalidatedAt: 0, writtenAt: 0 })
    else flight.count++
    return { sequence: this.#sequence, epoch: this.#epoch }
  }

  /**
   * Ends an operation on `rkey`: whether nothing invalidated its key (for a `write`, nothing but
   * a replica) nor began a new epoch since it began.
   */
  settle(rkey: string, token: FlightToken, write: boolean): boolean {
    const flight = this.#inFlight.get(rkey) as InFlight
    const at = write ? flight.writtenAt : flight.invalidatedAt
    if (--flight.count === 0) this.#inFlight.delete(rkey)
    return at <= token.sequence && token.epoch === this.#epoch
  }
}
