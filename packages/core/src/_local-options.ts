// The `local` option of a cache, checked: the bounds of its local tier.
import { ownOptions } from './_own.ts'
import { describe } from './_timeout.ts'
import type { LocalOptions } from './cache-options.ts'
import { InvalidArgumentError } from './errors.ts'

/** The bounds of a local tier; no bound is `Infinity`. */
export interface LocalBounds {
  /** Most values held. */
  maxEntries: number
  /** Most estimated bytes held. */
  maxBytes: number
  /** Milliseconds a value is held at most. */
  ttlMs: number
}

const DEFAULT_MAX_ENTRIES = 10_000
const LOCAL_KEYS = new Set(['maxEntries', 'maxBytes', 'ttl'])

/** Checks the `local` option; the bounds it selects. */
export function checkLocalOptions(local: unknown): LocalBounds {
  if (typeof local !== 'object' || local === null || Array.isArray(local)) {
    throw new InvalidArgumentError(
      `local takes an object { maxEntries?, maxBytes?, ttl? }, got ${describe(local)}`,
    )
  }
  for (const name of Object.keys(local)) {
    if (!LOCAL_KEYS.has(name)) {
      throw new InvalidArgumentError(
        `local takes maxEntries, maxBytes and ttl, got an unknown option '${name}'`,
      )
    }
  }
  const { maxEntries, maxBytes, ttl } = ownOptions(local) as LocalOptions
  const count = (value: unknown, name: string): number | undefined => {
    if (value === undefined) return undefined
    if (!Number.isSafeInteger(value) || (value as number) < 1) {
      throw new InvalidArgumentError(
        `local.${name} must be a positive integer, got ${describe(value)}`,
      )
    }
    return value as number
  }
  const entries = count(maxEntries, 'maxEntries')
  const bytes = count(maxBytes, 'maxBytes')
  if (ttl !== undefined && !(typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0)) {
    throw new InvalidArgumentError(
      `local.ttl must be a positive number of seconds, got ${describe(ttl)}`,
    )
  }
  return {
    maxEntries: entries ?? (bytes === undefined ? DEFAULT_MAX_ENTRIES : Number.POSITIVE_INFINITY),
    maxBytes: bytes ?? Number.POSITIVE_INFINITY,
    ttlMs: ttl === undefined ? Number.POSITIVE_INFINITY : ttl * 1000,
  }
}
