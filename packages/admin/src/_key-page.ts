// One key as its page shows it: type, TTL, size and revision (what a write checks), and its value
// decoded by the cache's own codec — a string as a tree of typed nodes (its JSON too when it can
// be edited as JSON), a container as a page of rows. A value the codec cannot read is shown as
// escaped bytes with the codec's error; nothing read here is trusted. The values of one page
// decompress to 4 × maxValueSize at most in all (one `Codec.budget()` per page), as those of one
// call of the cache do. Containers' rows, and the budget they are decoded under, are
// `./_key-rows.ts`.

import { bounded, MAX_INSPECT_ITEMS, serverOf } from '@cachex/core/internal'
import type { ContainerView, KeyView, StringView } from './_api-types.ts'
import type { AdminCache } from './_caches.ts'
import { MAX_FETCH_BYTES, revisionOf, serverRevision } from './_cas.ts'
import { changedWhileRead, whileTypeHolds } from './_changed.ts'
import { fetchPage } from './_container-read.ts'
import { HttpError } from './_http.ts'
import {
  hashRows,
  listRows,
  message,
  newPageBudget,
  type PageBudget,
  setRows,
  streamRows,
  zsetRows,
} from './_key-rows.ts'
import { sizeOf, ttlSeconds } from './_keys.ts'
import { memberCursor, memberCursorOf, memberServerChanged } from './_scan.ts'
import { editableJson, escapeBytes, toTree } from './_tree.ts'

/** Bytes of an unreadable value shown. */
const PREVIEW_BYTES = 1024
/** Rows of a container per page at most. */
export const MAX_ROWS = 500

/** The page of `key` at `version`. */
export async function readKey(
  entry: AdminCache,
  key: string,
  version: number,
  cursor: string | undefined,
  count: number,
): Promise<KeyView> {
  const redisKey = entry.cache.makeKey(key, version)
  const connection = entry.cache.connection
  const route = { key: redisKey, readonly: true }
  const [type, pttl] = (await Promise.all([
    connection.command(['TYPE', redisKey], { ...route, text: true }),
    connection.command(['PTTL', redisKey], route),
  ])) as [unknown, unknown]
  const kind = String(type)
  if (kind === 'none') throw new HttpError(404, `there is no key '${bounded(key)}'`, 'not_found')
  // Its type may change before the reads after TYPE: a 409, as a nil GET.
  return whileTypeHolds(key, async () => {
    const view: KeyView = {
      key,
      redisKey,
      version,
      type: kind,
      ttl: ttlSeconds(Number(pttl)),
      size: await sizeOf(entry, redisKey, kind),
      revision: revisionOf(kind),
    }
    const budget = newPageBudget(entry)
    if (kind === 'string') {
      const length = Number(await connection.command(['STRLEN', redisKey], route))
      if (length > MAX_FETCH_BYTES) {
        view.revision = await serverRevision(connection, redisKey)
        view.string = { length, serializer: null, compressor: null, tooLarge: true }
        try {
          const head = await connection.command(
            ['GETRANGE', redisKey, '0', String(PREVIEW_BYTES - 1)],
            route,
          )
          if (Buffer.isBuffer(head)) view.string.preview = escapeBytes(head, PREVIEW_BYTES * 4)
        } catch {
          // No preview where GETRANGE is refused.
        }
        return view
      }
      const raw = await connection.command(['GET', redisKey], route)
      if (!Buffer.isBuffer(raw)) throw changedWhileRead(key)
      view.revision = revisionOf('string', raw)
      view.string = decodeString(entry, raw, budget)
      return view
    }
    view.container = await readContainer(entry, kind, redisKey, cursor, count, budget)
    return view
  })
}

function decodeString(entry: AdminCache, raw: Buffer, budget: PageBudget): StringView {
  try {
    // At most MAX_INSPECT_ITEMS items built: past them, the error (and bytes) below.
    const { value, serializer, compressor, kinds } = entry.internals.codec.inspect(
      raw,
      budget.decompress,
      MAX_INSPECT_ITEMS,
    )
    const view: StringView = {
      length: raw.length,
      serializer,
      compressor,
      tree: toTree(value, kinds, budget),
    }
    const json = editableJson(value, kinds)
    if (json !== null) view.json = json
    return view
  } catch (error) {
    return {
      length: raw.length,
      serializer: null,
      compressor: null,
      error: message(error),
      preview: escapeBytes(raw.subarray(0, PREVIEW_BYTES), PREVIEW_BYTES * 4),
    }
  }
}

/** The largest stream id part: Redis's are unsigned 64-bit integers. */
const MAX_U64 = 2n ** 64n - 1n

/** A list or sorted-set offset of the query: an integer that stays exact past `count` more. */
function offset(at: string, count: number): number {
  const start = /^\d{1,16}$/.test(at) ? Number(at) : Number.NaN
  if (!Number.isSafeInteger(start + count)) {
    throw new HttpError(400, 'cursor must be an index (the cursor the previous page gave)')
  }
  return start
}

/**
 * The largest stream id: a valid cursor, after which nothing can follow (Redis refuses the
 * exclusive start `(` of it, as it has no next id).
 */
const LAST_STREAM_ID = `${MAX_U64}-${MAX_U64}`

/** A stream id of the query (`ms-seq`, each part up to 2^64 - 1), or `undefined`. */
function streamId(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined
  const parts = /^(\d{1,20})-(\d{1,20})$/.exec(cursor)
  if (
    parts === null ||
    BigInt(parts[1] as string) > MAX_U64 ||
    BigInt(parts[2] as string) > MAX_U64
  ) {
    throw new HttpError(400, 'cursor must be a stream id (the cursor the previous page gave)')
  }
  return `${BigInt(parts[1] as string)}-${BigInt(parts[2] as string)}`
}

async function readContainer(
  entry: AdminCache,
  kind: string,
  redisKey: string,
  cursor: string | undefined,
  count: number,
  budget: PageBudget,
): Promise<ContainerView> {
  const connection = entry.cache.connection
  const route = { key: redisKey, readonly: true }
  const length = async (command: string) =>
    Number(await connection.command([command, redisKey], route))
  const fetch = (at: string, n: string) => fetchPage(connection, kind, redisKey, at, n)
  switch (kind) {
    case 'hash':
    case 'set': {
      // Read before the page's read: a change during it fails the next page.
      const server = serverOf(connection)
      const generation = server()
      const at = cursor === undefined ? '0' : memberCursorOf(connection, cursor)
      const [total, page] = await Promise.all([
        length(kind === 'hash' ? 'HLEN' : 'SCARD'),
        fetch(at, String(count)),
      ])
      // Sent while the server changed: the old cursor may have gone to the new server.
      if (cursor !== undefined && server() !== generation) throw memberServerChanged()
      const rows =
        kind === 'hash' ? hashRows(entry, page.items, budget) : setRows(entry, page.items, budget)
      const columns = kind === 'hash' ? ['field', 'value'] : ['member']
      return { columns, rows, total, cursor: memberCursor(endOf(page.next), generation) }
    }
    case 'list':
    case 'zset': {
      const start = offset(cursor ?? '0', count)
      const [total, page] = await Promise.all([
        length(kind === 'list' ? 'LLEN' : 'ZCARD'),
        fetch(String(start), String(start + count - 1)),
      ])
      const fetched = kind === 'list' ? page.items.length : page.items.length / 2
      const rows =
        kind === 'list'
          ? listRows(entry, page.items, start, budget)
          : zsetRows(entry, page.items, budget)
      const next = start + rows.length
      // A page cut short by the budget (the tree's, or the read's) goes on where it stopped.
      const more =
        rows.length < fetched || page.next !== '' || (rows.length === count && next < total)
      const columns = kind === 'list' ? ['index', 'value'] : ['member', 'score']
      return { columns, rows, total, cursor: more && next < total ? String(next) : null }
    }
    case 'stream': {
      const after = streamId(cursor)
      if (after === LAST_STREAM_ID) {
        // Nothing comes after it: the last page, empty.
        return { columns: ['id', 'fields'], rows: [], total: await length('XLEN'), cursor: null }
      }
      const [total, page] = await Promise.all([
        length('XLEN'),
        fetch(after === undefined ? '-' : `(${after}`, String(count)),
      ])
      const rows = streamRows(page.entries, entry, budget)
      const last = page.entries[rows.length - 1]?.id
      const more =
        rows.length < page.entries.length || page.next !== '' || page.entries.length === count
      return {
        columns: ['id', 'fields'],
        rows,
        total,
        cursor: more && last !== undefined ? last : null,
      }
    }
    default:
      return { columns: [], rows: [], total: 0, cursor: null }
  }
}

/** A SCAN-family cursor: `null` when it is back at 0. */
function endOf(next: unknown): string | null {
  const text = Buffer.isBuffer(next) ? next.toString() : String(next ?? '0')
  return text === '0' ? null : text
}
