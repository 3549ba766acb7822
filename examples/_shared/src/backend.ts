import { setTimeout as delay } from 'node:timers/promises'

/** An item of the catalog, as the (slow) backend returns it. */
export interface Item {
  id: string
  name: string
  loadedAt: string
}

/** How many times the backend loaded each item: what the cache saves. */
const loads = new Map<string, number>()

/** Loads an item from the backend: a stand-in for a slow database query. */
export async function loadItem(id: string): Promise<Item> {
  await delay(50)
  loads.set(id, loadCount(id) + 1)
  return { id, name: `Item ${id}`, loadedAt: new Date().toISOString() }
}

/** How many times the backend loaded item `id` since the app started. */
export function loadCount(id: string): number {
  return loads.get(id) ?? 0
}

/** What one run of the nightly job reports. */
export interface NightlyRun {
  ranAt: string
  tookMs: number
}

/** The nightly job: slow work that must not run twice at once, even across app instances. */
export async function runNightlyJob(): Promise<NightlyRun> {
  const started = performance.now()
  await delay(1000)
  return { ranAt: new Date().toISOString(), tookMs: Math.round(performance.now() - started) }
}
