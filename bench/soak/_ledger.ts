// The ledger of a soak run: every write the load sends, and what each read may therefore see.
//
// A key's history is a list of values, each visible from when its write was sent until the next
// acknowledged write to the key was acknowledged. A write that failed has an unknown outcome (it
// may have been applied, now or later), so its value stays possible until a later write is
// acknowledged; the errors documented as "nothing was sent" (`FailoverError`,
// `BackpressureError`) leave no trace. Replicas lag behind their primary: a read may see any value
// that was visible up to `LAG_MS` before it started.
//
// One write at a time per key (the load never sends a second while one is in flight), so the
// order of acknowledgements is the order of the writes.

/** How far behind the primary a replica may be, for what a read accepts. */
export const LAG_MS = 1000

interface Entry {
  value: string | null
  /** When the write was sent: it may be visible from then on. */
  from: number
  /** When a later write was acknowledged: no longer visible after that (Infinity: still is). */
  to: number
}

interface KeyState {
  history: Entry[]
  /** A write is in flight: its value may be visible already. */
  pending: { value: string | null } | undefined
}

interface CounterState {
  /** The counter's value is at least this … */
  min: number
  /** … and at most this (increments that failed may or may not have been applied). */
  max: number
  busy: boolean
}

/** What a check found wrong. */
export interface Findings {
  /** A read found nothing where the key certainly had a value. */
  falseMisses: number
  /** A read (or an increment's reply) found a value the key never had. */
  wrongValues: number
  /** At the end, an acknowledged write is not there. */
  lost: number
  /** Examples, for the report. */
  samples: string[]
}

export class Ledger {
  readonly #keys = new Map<string, KeyState>()
  readonly #counters = new Map<string, CounterState>()
  readonly findings: Findings = { falseMisses: 0, wrongValues: 0, lost: 0, samples: [] }

  /** Whether a write to `key` is in flight. */
  busy(key: string): boolean {
    return this.#keys.get(key)?.pending !== undefined
  }

  /** A write of `value` (`null`: a delete) to `key` is sent now. */
  send(key: string, value: string | null, now: number): void {
    const state = this.#state(key)
    state.pending = { value }
    // Visible from now on, whatever the outcome (a failed write may still be applied).
    state.history.push({ value, from: now, to: Number.POSITIVE_INFINITY })
  }

  /** The write to `key` in flight was acknowledged: every earlier value is gone. */
  ack(key: string, now: number): void {
    const state = this.#state(key)
    state.pending = undefined
    const last = state.history[state.history.length - 1] as Entry
    for (const entry of state.history) {
      if (entry !== last && entry.to === Number.POSITIVE_INFINITY) entry.to = now
    }
    this.#trim(state, now)
  }

  /** The write to `key` in flight failed; `sent`: whether it may have been applied. */
  fail(key: string, sent: boolean, _now: number): void {
    const state = this.#state(key)
    state.pending = undefined
    if (!sent) state.history.pop()
  }

  /** Checks what a read of `key` started at `start` returned (`null`: nothing). */
  read(key: string, value: string | null, start: number, end: number): void {
    const state = this.#keys.get(key)
    if (state === undefined) return
    const since = start - LAG_MS
    let nullPossible = false
    for (const entry of state.history) {
      if (entry.to < since || entry.from > end) continue
      if (entry.value === value) return
      if (entry.value === null) nullPossible = true
    }
    if (state.pending !== undefined && state.pending.value === value) return
    // Before the first write the load made, the key may not exist.
    const first = state.history[0]
    if (value === null && (first === undefined || first.from > since)) return
    if (value === null && !nullPossible) {
      this.findings.falseMisses++
      this.#sample(`false miss: ${key}`)
    } else {
      this.findings.wrongValues++
      this.#sample(`wrong value for ${key}: ${value}`)
    }
  }

  /** At the end (nothing in flight): checks the value found on the primary. */
  final(key: string, value: string | null): void {
    const state = this.#keys.get(key)
    if (state === undefined) return
    const possible = state.history.filter((entry) => entry.to === Number.POSITIVE_INFINITY)
    if (possible.some((entry) => entry.value === value)) return
    if (value === null) {
      this.findings.lost++
      this.#sample(`lost: ${key} (acknowledged ${possible.map((e) => e.value).join(' | ')})`)
    } else {
      this.findings.wrongValues++
      this.#sample(`wrong final value for ${key}: ${value}`)
    }
  }

  /** The keys the ledger knows. */
  keys(): string[] {
    return [...this.#keys.keys()]
  }

  // ------------------------------------------------------------------ counters

  counterBusy(key: string): boolean {
    return this.#counters.get(key)?.busy ?? false
  }

  /** A counter `key` known to hold `value`. */
  counter(key: string, value: number): void {
    this.#counters.set(key, { min: value, max: value, busy: false })
  }

  incrSent(key: string): void {
    const state = this.#counters.get(key)
    if (state !== undefined) state.busy = true
  }

  /** An increment of `key` replied `value`: it must be one more than what the counter held. */
  incrAck(key: string, value: number): void {
    const state = this.#counters.get(key)
    if (state === undefined) return
    state.busy = false
    if (value < state.min + 1 || value > state.max + 1) {
      this.findings.wrongValues++
      this.#sample(`incr ${key} replied ${value}, expected ${state.min + 1}…${state.max + 1}`)
    }
    state.min = value
    state.max = value
  }

  incrFail(key: string, sent: boolean): void {
    const state = this.#counters.get(key)
    if (state === undefined) return
    state.busy = false
    if (sent) state.max++
  }

  /** At the end: checks the counter's value on the primary. */
  counterFinal(key: string, value: number | null): void {
    const state = this.#counters.get(key)
    if (state === undefined) return
    if (value === null) {
      this.findings.lost++
      this.#sample(`lost counter ${key}`)
    } else if (value < state.min || value > state.max) {
      const lost = value < state.min
      if (lost) this.findings.lost++
      else this.findings.wrongValues++
      this.#sample(`counter ${key} = ${value}, expected ${state.min}…${state.max}`)
    }
  }

  counters(): string[] {
    return [...this.#counters.keys()]
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key)
    if (state === undefined) {
      state = { history: [], pending: undefined }
      this.#keys.set(key, state)
    }
    return state
  }

  /** Drops what no read can see any more, so that the ledger stays small. */
  #trim(state: KeyState, now: number): void {
    const horizon = now - 10 * LAG_MS
    while (state.history.length > 1 && (state.history[0] as Entry).to < horizon) {
      state.history.shift()
    }
  }

  #sample(text: string): void {
    if (this.findings.samples.length < 20) this.findings.samples.push(text)
  }
}
