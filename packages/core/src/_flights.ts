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

  /** Notes an invalidation of `rkey`: it spoils the operations on it in flight. */
  invalidated(rkey: string): void {
    const sequence = ++this.#sequence
    const flight = this.#inFlight.get(rkey)
    if (flight !== undefined) flight.invalidatedAt = sequence
  }

  /** Registers an operation on `rkey` in flight. */
  begin(rkey: string): FlightToken {
    const flight = this.#inFlight.get(rkey)
    if (flight === undefined) this.#inFlight.set(rkey, { count: 1, invalidatedAt: 0 })
    else flight.count++
    return { sequence: this.#sequence, epoch: this.#epoch }
  }

  /**
   * Ends an operation on `rkey`: whether nothing invalidated its key nor began a new epoch since
   * it began.
   */
  settle(rkey: string, token: FlightToken): boolean {
    const flight = this.#inFlight.get(rkey) as InFlight
    if (--flight.count === 0) this.#inFlight.delete(rkey)
    return flight.invalidatedAt <= token.sequence && token.epoch === this.#epoch
  }
}
