// The queueing methods of a pipeline (`CachePipeline`, `_pipeline.ts`), put on its prototype
// once: one per family method (the cache's own, queued) and one per entry of the standard API
// and the key commands (`_pipeline-standard.ts`, `_pipeline-keys.ts`).
import { MOST_ARGUMENTS, tooManyArguments } from './_arity.ts'
import { FAMILY_METHODS } from './_pipeline-families.ts'
import { keyEntries } from './_pipeline-keys.ts'
import { standardEntries } from './_pipeline-standard.ts'
import type { CacheLike } from './cache-like.ts'

/** What a queueing method uses of its pipeline (a `CachePipeline`). */
interface Queueing {
  /** The cache the calls are made on. */
  readonly cache: CacheLike
  /** Queues the call `invoke` makes (`CachePipeline.queue`). */
  queue(invoke: () => Promise<unknown>, reports?: boolean): unknown
}

/**
 * Puts the queueing methods on `prototype`, `CachePipeline`'s: the standard API and the families.
 * A family method is the cache's, which refuses an argument past its last itself; an entry of the
 * standard API refuses it here, in the call's slot, as it refuses a bad option.
 */
export function attachQueueing(prototype: object): void {
  for (const name of FAMILY_METHODS) {
    Object.defineProperty(prototype, name, {
      __proto__: null,
      value(this: Queueing, ...args: unknown[]) {
        const cache = this.cache as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>
        return this.queue(() => (cache[name] as (...a: unknown[]) => Promise<unknown>)(...args))
      },
      writable: true,
      configurable: true,
    } as PropertyDescriptor)
  }
  for (const [name, entry] of Object.entries({ ...standardEntries, ...keyEntries })) {
    const most = MOST_ARGUMENTS[name] as number
    Object.defineProperty(prototype, name, {
      __proto__: null,
      value(this: Queueing, ...args: unknown[]) {
        return this.queue(() => {
          if (args.length > most) throw tooManyArguments(this.cache, name, most, args.length)
          return (entry as (...a: unknown[]) => Promise<unknown>)(this, ...args)
        }, true)
      },
      writable: true,
      configurable: true,
    } as PropertyDescriptor)
  }
}
