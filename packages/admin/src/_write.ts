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
  // whole float (`1.0`, `1e3`) told from an integer, to be refused below.
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
  if (floats.size > 0) {
    const [first] = floats.keys()
    const n = Number(first)
    const shown = Object.is(n, -0) ? '-0' : String(n)
    throw new HttpError(
      400,
      `the number ${shown} is written as a float (with a fraction or an exponent), and would be stored as the integer ${shown}: JavaScript has one number type; write it as an integer if one is meant (a whole float cannot be stored from here)`,
      'invalid_json',
    )
  }
  value = intZeros(value)
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
 * `value` with each `-0` made `0`, in place: what is left of them after the whole floats were
 * refused are integers written `-0`, the int 0 to Python (`json.loads('-0')`), which a pickle
 * would otherwise store as the float `-0.0`.
 */
function intZeros(value: unknown): unknown {
  if (Object.is(value, -0)) return 0
  const todo: unknown[] = [value]
  while (todo.length > 0) {
    const node = todo.pop()
    if (typeof node !== 'object' || node === null) continue
    const record = node as Record<string, unknown>
    for (const key of Object.keys(record)) {
      const item = record[key]
      if (Object.is(item, -0)) record[key] = 0
      else if (typeof item === 'object' && item !== null) todo.push(item)
    }
  }
  return value
}
