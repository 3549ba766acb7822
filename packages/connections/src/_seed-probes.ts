// The connections node-redis opens to the seeds of a cluster to discover it, and how cachex ends
// them when the cluster is closed.

/**
 * The sockets node-redis opens to the seeds to discover a cluster. Each discovery asks a seed for
 * the slot map on a client of its own, made from the seed's `rootNodes` options and none of the
 * node clients: `destroy()` does not reach it, and node-redis only checks whether it was closed
 * between two seeds. So a discovery under way at the close (say, on frozen seeds, each tried for
 * `socketConnectTimeout`) would keep its socket, and the process, open that much longer.
 *
 * Each of those sockets gets an `AbortSignal` of its own (Node destroys a socket once its `signal`
 * aborts), and `destroy()` aborts them all. One signal for all would do, but Node takes its
 * listener off a signal only once it aborts: one signal would keep every socket the discoveries
 * opened in the cache's lifetime. Only live clients hold their signal, so the signals are held
 * weakly, and the ones of clients gone are dropped.
 */
export class SeedProbes {
  /** The signals handed out, alive as long as the client holding one is. */
  readonly #signals = new Set<WeakRef<AbortSignal>>()
  /** The controller of each signal handed out, for as long as the signal is alive. */
  readonly #controllers = new WeakMap<AbortSignal, AbortController>()
  #destroyed = false

  /**
   * `socket` (a seed's node-redis socket options) with a `signal`: a new one each time node-redis
   * reads it, that is once per discovery client it makes for the seed.
   */
  socket<T extends object>(socket: T): T {
    const options = { ...socket }
    Object.defineProperty(options, 'signal', { enumerable: true, get: () => this.#next() })
    return options
  }

  /** Destroys the sockets to the seeds open now; those opened later are destroyed at once. */
  destroy(): void {
    this.#destroyed = true
    for (const ref of this.#signals) {
      const signal = ref.deref()
      if (signal !== undefined) this.#controllers.get(signal)?.abort()
    }
    this.#signals.clear()
  }

  #next(): AbortSignal {
    const controller = new AbortController()
    if (this.#destroyed) {
      controller.abort()
      return controller.signal
    }
    for (const ref of this.#signals) if (ref.deref() === undefined) this.#signals.delete(ref)
    this.#signals.add(new WeakRef(controller.signal))
    this.#controllers.set(controller.signal, controller)
    return controller.signal
  }
}

/** The seed probes of each cluster cachex made from seeds. */
const probesByCluster = new WeakMap<object, SeedProbes>()

/** Remembers `probes` as those of `cluster`, for `destroySeedProbes`. */
export function trackSeedProbes(cluster: object, probes: SeedProbes): void {
  probesByCluster.set(cluster, probes)
}

/** Destroys the sockets `cluster` has open to its seeds to discover it, if cachex made it. */
export function destroySeedProbes(cluster: object): void {
  probesByCluster.get(cluster)?.destroy()
}
