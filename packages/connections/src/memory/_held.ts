// Which command just took a lock or a semaphore (`@cachex/lock`'s acquire scripts, by SHA or by
// source): the key it wrote is held, and `maxBytes` eviction (`_evict.ts`) spares it while it
// lives, as a default Redis (no `maxmemory`) never drops it.
import { SOURCES } from './_script-sources.ts'
import { knownScripts } from './scripts.ts'

/** The scripts that take a lock or a semaphore: the key they write is held, never evicted. */
const HOLDING = new Set<string>(['LOCK_ACQUIRE', 'SEMAPHORE_ACQUIRE'])
const HOLDING_SHAS = new Set(
  [...knownScripts()].filter(([, name]) => HOLDING.has(name)).map(([sha]) => sha),
)
const HOLDING_SOURCES = new Set<string>([SOURCES.LOCK_ACQUIRE, SOURCES.SEMAPHORE_ACQUIRE])

/**
 * The key a command just took a lock or a semaphore on (`reply`: its answer), to be kept from
 * eviction while it holds it; `undefined` for any other command or answer.
 */
export function heldKey(name: string, args: readonly string[], reply: unknown): string | undefined {
  if (typeof reply !== 'number' || reply <= 0) return undefined
  const script = args[0] ?? ''
  const holds =
    name === 'EVALSHA'
      ? HOLDING_SHAS.has(script.toLowerCase())
      : name === 'EVAL' && HOLDING_SOURCES.has(script)
  return holds && args[1] !== '0' ? args[2] : undefined
}
