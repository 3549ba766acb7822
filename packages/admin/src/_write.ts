// Edits and deletes of one key, each checked against the revision its page showed (_cas.ts): a
// concurrent change answers 409 and nothing is written. A value is JSON text the user typed,
// stored through the cache's own codec (JSON, msgpack or pickle, compressed as the cache does).
import { MAX_JSON_DEPTH } from '@cachex/core'
import { parsePythonJson } from '@cachex/core/internal'
import type { AdminCache } from './_caches.ts'
import { compareAndSet, revisionOf, type TtlChange } from './_cas.ts'
import { HttpError } from './_http.ts'

const REVISION = /^(string|hash|list|set|zset|stream):[0-9a-f]{0,40}$/

/** Checks a revision sent back by the browser. */
export function checkRevision(revision: unknown): string {
  if (typeof revision !== 'string' || !REVISION.test(revision)) {
    throw new HttpError(400, 'revision must be the revision the key page showed')
  }
  return revision
}

/** Checks a TTL: seconds (more than 0), `null` (no expiry), or absent (unchanged). */
export function checkTtl(ttl: unknown): TtlChange {
  if (ttl === undefined) return 'keep'
  if (ttl === null) return 'persist'
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0 || ttl > 2 ** 31) {
    throw new HttpError(400, 'ttl must be seconds (more than 0), or null for no expiry')
  }
  return Math.max(1, Math.round(ttl * 1000))
}

/** What an edit did. */
export interface EditResult {
  /** The key's revision now. */
  revision: string
  /** What the audit log records. */
  action: 'set' | 'expire' | 'persist'
}

/** What an edit of `json` (`undefined`: the TTL only) and `ttl` is recorded as in the audit log. */
export function editAction(json: unknown, ttl: TtlChange): EditResult['action'] {
  if (json !== undefined) return 'set'
  return ttl === 'persist' ? 'persist' : 'expire'
}

/**
 * Stores the value parsed from `json` (if given) and applies `ttl`, when the key still has
 * `revision`. Throws 409 on a concurrent change, 400 on JSON the codec cannot store.
 */
export async function editKey(
  entry: AdminCache,
  redisKey: string,
  revision: string,
  json: unknown,
  ttl: TtlChange,
): Promise<EditResult> {
  const connection = entry.cache.connection
  if (json === undefined) {
    if (ttl === 'keep') throw new HttpError(400, 'send value (JSON text) or ttl to change')
    const applied = await compareAndSet(connection, redisKey, revision, { op: 'ttl', ttl })
    if (!applied) throw conflict()
    return { revision, action: editAction(json, ttl) }
  }
  if (typeof json !== 'string') throw new HttpError(400, 'value must be JSON text (a string)')
  if (!revision.startsWith('string:')) {
    throw new HttpError(400, 'only a string value can be edited; change the TTL of other types')
  }
  let value: unknown
  // Numbers as Python reads them: an integer beyond 2^53 as a bigint (every digit kept), and a
  // whole float (`1.0`, `1e3`) told from an integer, to be refused below (under 2^53) or unboxed.
  const floats = new Map<object, string>()
  try {
    value = parsePythonJson(json, MAX_JSON_DEPTH, floats)
  } catch (error) {
    throw new HttpError(
      400,
      `the value is not valid JSON: ${(error as Error).message}`,
      'invalid_json',
    )
  }
  for (const box of floats.keys()) {
    // Below 2^53 a whole float is stored as an int (JavaScript has one number type, and the
    // codecs write a whole number that fits an int as one). From 2^53 on it is stored as a float,
    // as `cache.set(1e16)` stores it, which Python reads back as the float typed.
    const n = Number(box)
    if (Math.abs(n) >= 2 ** 53) continue
    // -0.0 (or -1e-400, which rounds to it) would be the int 0: Python has no -0 int.
    const typed = Object.is(n, -0) ? '-0.0' : `${n}.0`
    const stored = Object.is(n, -0) ? '0' : String(n)
    throw new HttpError(
      400,
      `the number ${typed} is written as a float (with a fraction or an exponent), and would be stored as the integer ${stored}: JavaScript has one number type; write it as an integer if one is meant (a whole float below 2^53 cannot be stored from here)`,
      'invalid_json',
    )
  }
  value = plainNumbers(value)
  let encoded: Buffer | string
  try {
    encoded = entry.internals.codec.encode(value)
  } catch (error) {
    throw new HttpError(
      400,
      `the cache's codec cannot store this value: ${(error as Error).message}`,
    )
  }
  const applied = await compareAndSet(connection, redisKey, revision, {
    op: 'set',
    value: encoded,
    ttl,
  })
  if (!applied) throw conflict()
  return { revision: revisionOf('string', encoded), action: 'set' }
}

/** Deletes the key; with a revision only if it still has it. Resolves whether a key was deleted. */
export async function deleteKey(
  entry: AdminCache,
  redisKey: string,
  revision: string | undefined,
): Promise<boolean> {
  const connection = entry.cache.connection
  if (revision === undefined) {
    return Number(await connection.command(['UNLINK', redisKey], { key: redisKey })) > 0
  }
  const applied = await compareAndSet(connection, redisKey, revision, { op: 'delete' })
  if (!applied) throw conflict()
  return true
}

function conflict(): HttpError {
  return new HttpError(
    409,
    'the key changed (or was deleted) since its page was loaded: nothing was written; reload it to see the new value',
    'conflict',
  )
}

/**
 * `value` with its numbers as the codecs are to store them, in place: each boxed whole float left
 * after the check above (2^53 or more) made the plain number it holds (a codec would not know the
 * box; it stores such a number as a float), and each `-0` made `0` — what is left of them are
 * integers written `-0` (a `-0.0` was refused), the int 0 to Python (`json.loads('-0')`), which a
 * pickle would otherwise store as the float `-0.0`.
 */
function plainNumbers(value: unknown): unknown {
  const plain = (item: unknown) =>
    item instanceof Number ? item.valueOf() : Object.is(item, -0) ? 0 : item
  const todo: unknown[] = [value]
  while (todo.length > 0) {
    const node = todo.pop()
    if (typeof node !== 'object' || node === null || node instanceof Number) continue
    const record = node as Record<string, unknown>
    for (const key of Object.keys(record)) {
      const item = record[key]
      if (typeof item === 'object' && item !== null && !(item instanceof Number)) todo.push(item)
      else record[key] = plain(item)
    }
  }
  return plain(value)
}
