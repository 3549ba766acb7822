// The API routes of one cache (`api/caches/:alias/…`): keys, a key (read, edit, delete),
// deletePattern jobs, INFO, slow log, memory by prefix, hit rate.
import type { KeyAnswer } from './_api-types.ts'
import { checkCsrf, type Principal } from './_auth.ts'
import type { AdminCache } from './_caches.ts'
import { BUCKET_SECONDS } from './_hits.ts'
import { HttpError, readJsonBody, sendJson } from './_http.ts'
import { MAX_ROWS, readKey } from './_key-page.ts'
import { checkNameable, MAX_PAGE } from './_keys.ts'
import { checkPattern } from './_scan.ts'
import { infoSummary, MAX_SAMPLES, memoryByPrefix, slowlog } from './_server.ts'
import type { Request, State } from './_state.ts'
import { checkRevision, checkTtl, deleteKey, editAction, editKey } from './_write.ts'
import type { AdminAuditEntry } from './options.ts'

/** The 405 of a route that answers only `allowed`. */
export function methodNotAllowed(allowed: string): HttpError {
  return new HttpError(405, `this route answers ${allowed}`, 'method_not_allowed')
}

/** An integer query parameter within bounds, or its default. */
export function intParam(
  query: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
) {
  const text = query.get(name)
  if (text === null || text === '') return fallback
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new HttpError(400, `${name} must be an integer from ${min} to ${max}`)
  }
  return n
}

/** A required string query parameter of at most `max` characters. */
export function stringParam(query: URLSearchParams, name: string, max = 4096): string {
  const text = query.get(name)
  if (text === null || text === '') throw new HttpError(400, `${name} is required`)
  if (text.length > max) throw new HttpError(400, `${name} is longer than ${max} characters`)
  return text
}

/** Answers `what` (`keys`, `key`, `delete-pattern`, `info`…) of the cache `entry`. */
export async function cacheRoute(
  state: State,
  request: Request,
  principal: Principal,
  method: string,
  entry: AdminCache,
  what: string,
): Promise<void> {
  const { req, res, query } = request
  const version = () => intParam(query, 'version', entry.cache.version, -(2 ** 31), 2 ** 31 - 1)
  type Fields = Omit<AdminAuditEntry, 'time' | 'who' | 'cache'>
  // A write refused here (read-only, no or another session's CSRF token, another site's) is
  // audited too, why in `reason`: a forged request shows in the log. A refused edit is a `set`
  // (its body, which says whether it changes the value or only the expiry, is not read).
  const write = (attempt: Pick<Fields, 'action' | 'key' | 'pattern'>) => {
    try {
      if (state.readOnly) throw new HttpError(403, 'this admin is read-only', 'read_only')
      checkCsrf(principal, req)
    } catch (error) {
      if (error instanceof HttpError) audit({ ...attempt, ok: false, reason: error.code })
      throw error
    }
  }
  const audit = (fields: Fields) => {
    try {
      state.audit({
        time: new Date().toISOString(),
        who: principal.who,
        cache: entry.alias,
        ...fields,
      })
    } catch {
      // An audit sink that throws must not turn a done write into an error.
    }
  }
  switch (what) {
    case 'keys': {
      if (method !== 'GET') throw methodNotAllowed('GET')
      const pattern = query.get('pattern') || '*'
      checkPattern(pattern)
      const count = intParam(query, 'count', 50, 1, MAX_PAGE)
      const cursor = query.get('cursor') || undefined
      const page = await state.walks.page(entry, pattern, version(), count, cursor)
      return sendJson(res, 200, page)
    }
    case 'key': {
      const key = stringParam(query, 'key', 64 * 1024)
      checkNameable(key)
      if (method === 'GET') {
        const cursor = query.get('cursor') || undefined
        const count = intParam(query, 'count', 100, 1, MAX_ROWS)
        const view = await readKey(entry, key, version(), cursor, count)
        const answer: KeyAnswer = { ...view, readOnly: state.readOnly }
        return sendJson(res, 200, answer)
      }
      if (method === 'PUT') {
        write({ action: 'set', key })
        const body = await readJsonBody(req)
        const revision = checkRevision(body.revision)
        const ttl = checkTtl(body.ttl)
        const redisKey = entry.cache.makeKey(key, version())
        try {
          const done = await editKey(entry, redisKey, revision, body.value, ttl)
          audit({ action: done.action, key, ok: true })
          return sendJson(res, 200, { ok: true, revision: done.revision })
        } catch (error) {
          const reason = failureReason(error)
          if (reason !== undefined) {
            audit({ action: editAction(body.value, ttl), key, ok: false, reason })
          }
          throw error
        }
      }
      if (method === 'DELETE') {
        write({ action: 'delete', key })
        const given = query.get('revision')
        const revision = given === null || given === '' ? undefined : checkRevision(given)
        const redisKey = entry.cache.makeKey(key, version())
        try {
          const deleted = await deleteKey(entry, redisKey, revision)
          audit({ action: 'delete', key, count: deleted ? 1 : 0, ok: true })
          return sendJson(res, 200, { ok: true, deleted })
        } catch (error) {
          const reason = failureReason(error)
          if (reason !== undefined) audit({ action: 'delete', key, ok: false, reason })
          throw error
        }
      }
      throw methodNotAllowed('GET, PUT, DELETE')
    }
    case 'delete-pattern': {
      if (method !== 'POST') throw methodNotAllowed('POST')
      const body = await readJsonBody(req)
      const dryRun = body.dryRun === true
      const pattern = body.pattern
      if (dryRun) checkCsrf(principal, req)
      else write({ action: 'deletePattern', ...(typeof pattern === 'string' ? { pattern } : {}) })
      if (typeof pattern !== 'string' || pattern === '') {
        throw new HttpError(400, 'pattern must be a non-empty glob pattern over the keys')
      }
      checkPattern(pattern)
      const v = body.version === undefined ? entry.cache.version : body.version
      if (!Number.isSafeInteger(v)) throw new HttpError(400, 'version must be an integer')
      const expected =
        typeof body.expected === 'number' && Number.isSafeInteger(body.expected)
          ? body.expected
          : null
      const job = state.jobs.start(
        entry,
        dryRun ? 'count' : 'delete',
        pattern,
        v as number,
        expected,
        principal.who,
        (ended) => {
          if (ended.kind !== 'delete') return
          audit({
            action: 'deletePattern',
            pattern,
            count: ended.deleted,
            ok: ended.state === 'done',
            ...(ended.state === 'done' ? {} : { reason: ended.error ?? ended.state }),
          })
        },
      )
      return sendJson(res, 202, job)
    }
    case 'info':
      if (method !== 'GET') throw methodNotAllowed('GET')
      return sendJson(res, 200, await infoSummary(entry))
    case 'slowlog': {
      if (method !== 'GET') throw methodNotAllowed('GET')
      const count = intParam(query, 'count', 50, 1, 1000)
      return sendJson(res, 200, { entries: await slowlog(entry, count) })
    }
    case 'memory': {
      if (method !== 'GET') throw methodNotAllowed('GET')
      const samples = intParam(query, 'samples', 1000, 1, MAX_SAMPLES)
      return sendJson(res, 200, await memoryByPrefix(entry, samples))
    }
    case 'hits':
      if (method !== 'GET') throw methodNotAllowed('GET')
      return sendJson(res, 200, {
        available: entry.hits.available,
        bucketSeconds: BUCKET_SECONDS,
        buckets: entry.hits.series(),
      })
    default:
      throw new HttpError(404, 'no such API route', 'not_found')
  }
}

/**
 * Why an edit or a delete failed, for its audit entry: `'conflict'` (a compare-and-set that met a
 * change) or the error's code (`E_TIMEOUT`, `E_CONNECTION`…: a write whose reply did not come may
 * have been applied all the same); `undefined` for a request refused as malformed (a 4xx), which
 * wrote nothing.
 */
function failureReason(error: unknown): string | undefined {
  if (error instanceof HttpError) return error.status === 409 ? 'conflict' : undefined
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : 'error'
}
