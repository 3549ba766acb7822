// One key as its page shows it: type, TTL, size and revision (what a write checks), and its value
// decoded by the cache's own codec — a string as a tree of typed nodes (its JSON too when it can
// be edited as JSON), a container as a page of rows. A value the codec cannot read is shown as
// escaped bytes with the codec's error; nothing read here is trusted. The values of one page
// decompress to 4 × maxValueSize at most in all (one `Codec.budget()` per page), as those of one
// call of the cache do.

import { bounded, type Codec, serverOf } from '@cachex/core/internal'
import type { ContainerView, KeyView, StringView, TreeNode } from './_api-types.ts'
import type { AdminCache } from './_caches.ts'
import { MAX_FETCH_BYTES, revisionOf, serverRevision } from './_cas.ts'
import { changedWhileRead, whileTypeHolds } from './_changed.ts'
import {
  type Element,
  fetchPage,
  HEAD_BYTES,
  MAX_ELEMENT_BYTES,
  MAX_PAGE_BYTES,
  type StreamEntry,
  type TooLarge,
} from './_container-read.ts'
import { HttpError } from './_http.ts'
import { sizeOf, ttlSeconds } from './_keys.ts'
import { memberCursor, memberCursorOf, memberServerChanged } from './_scan.ts'
import { editableJson, escapeBytes, newBudget, type TreeBudget, toTree } from './_tree.ts'

/** Bytes of an unreadable value shown. */
const PREVIEW_BYTES = 1024
/** Rows of a container per page at most. */
export const MAX_ROWS = 500

/** What the values one page decodes may still decompress to (`Codec.budget()`). */
type DecodeBudget = NonNullable<ReturnType<Codec['budget']>>

/**
 * What one page shows (`TreeBudget`) and decompresses: one `Codec.budget()` for all its values
 * (4 × maxValueSize in all), as one call of the cache has, so that a page of compressed values
 * that `lrange` would refuse is not decompressed whole by one request.
 */
interface PageBudget extends TreeBudget {
  /** What the page's values may still decompress to; `undefined` when nothing bounds it. */
  decompress: DecodeBudget | undefined
  /** What they may decompress to in all, in bytes (for the message past it). */
  decompressBytes: number
}

function newPageBudget(entry: AdminCache): PageBudget {
  const decompress = entry.internals.codec.budget()
  return { ...newBudget(), decompress, decompressBytes: decompress?.left ?? 0 }
}

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
    const { value, serializer, compressor, kinds } = entry.internals.codec.inspect(
      raw,
      budget.decompress,
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

/** Whether the page's tree budget is spent: the rows after it are not decoded. */
function spent(budget: TreeBudget): boolean {
  return budget.nodes <= 0 || budget.chars <= 0
}

/**
 * A stored element decoded by the codec, or an error node with its bytes: also when what it would
 * decompress to is past what the page's decompression budget has left.
 */
function element(entry: AdminCache, fetched: Element, budget: PageBudget): TreeNode {
  if (!Buffer.isBuffer(fetched)) return charged(tooLargeNode(fetched), budget)
  // Decoding costs what the element holds: past the budget, nothing would be shown of it.
  if (spent(budget)) return notShown(fetched.length)
  const codec = entry.internals.codec
  const left = budget.decompress?.left
  try {
    const { value, kinds } = codec.inspect(fetched, budget.decompress)
    return toTree(value, kinds, budget)
  } catch (error) {
    // With less left than maxValueSize, the codec holds the value to what is left, and a
    // CompressionError is the budget's (as it is for a call of the cache). By its code: the
    // cache may come from another copy of @cachex/core than the admin's.
    const overBudget =
      (error as { code?: unknown } | null)?.code === 'E_COMPRESSION' &&
      left !== undefined &&
      left < (codec.maxValueSize ?? Number.POSITIVE_INFINITY)
    const node: TreeNode = {
      type: 'error',
      message: overBudget ? budgetSpent(budget) : message(error),
      preview: escapeBytes(fetched.subarray(0, 256), 1024),
      length: fetched.length,
    }
    return charged(node, budget)
  }
}

/** An error node, counted in the budget as the tree counts its nodes (one, and its text). */
function charged(node: TreeNode & { type: 'error' }, budget: TreeBudget): TreeNode {
  budget.nodes--
  budget.chars -= node.preview.length
  return node
}

/** A field name or stream id: text, shown as is (bounded). */
function label(fetched: Element, budget: TreeBudget): TreeNode {
  if (!Buffer.isBuffer(fetched)) return charged(tooLargeNode(fetched), budget)
  // The UTF-8 decoding is bounded too: what the budget cannot show is not decoded.
  const room = Math.max(0, Math.min(fetched.length, budget.chars * 4))
  const node = toTree(fetched.subarray(0, room).toString('utf8'), undefined, budget)
  if (room < fetched.length && node.type === 'str') node.length = fetched.length
  return node
}

/** An element the server did not send whole: its length and first bytes. */
function tooLargeNode(fetched: TooLarge): TreeNode & { type: 'error' } {
  return {
    type: 'error' as const,
    message: `too large to show here (${fetched.tooLarge} bytes; a page fetches elements of ${MAX_ELEMENT_BYTES} bytes, and ${MAX_PAGE_BYTES} in all)`,
    preview: escapeBytes(fetched.head, HEAD_BYTES * 4),
    length: fetched.tooLarge,
  }
}

/** An element left undecoded: the page showed as much as it shows. */
function notShown(length: number): TreeNode {
  return {
    type: 'error',
    message: 'not shown: this page is full (ask for fewer rows to see it)',
    preview: '',
    length,
  }
}

/** Why an element was not decoded: the page's values decompressed to all they may. */
function budgetSpent(budget: PageBudget): string {
  return `not decoded: this page's decompression budget (4 × maxValueSize, ${budget.decompressBytes} bytes for all its values) is spent (ask for fewer rows to see it)`
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
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

/**
 * Field and value rows. An HSCAN cursor cannot resume in the middle of its reply, so every row of
 * it is kept; past the budget they are left undecoded (`element`).
 */
function hashRows(entry: AdminCache, items: Element[], budget: PageBudget): TreeNode[][] {
  const rows: TreeNode[][] = []
  for (let i = 0; i + 1 < items.length; i += 2) {
    rows.push([label(items[i] as Element, budget), element(entry, items[i + 1] as Element, budget)])
  }
  return rows
}

/** Member rows; as with a hash, the whole SSCAN reply, undecoded past the budget. */
function setRows(entry: AdminCache, items: Element[], budget: PageBudget): TreeNode[][] {
  return items.map((member) => [element(entry, member, budget)])
}

/** Index and value rows, until the budget is spent (the next page starts where they stop). */
function listRows(entry: AdminCache, items: Element[], start: number, budget: PageBudget) {
  const rows: TreeNode[][] = []
  for (let i = 0; i < items.length && (rows.length === 0 || !spent(budget)); i++) {
    rows.push([
      { type: 'int', value: String(start + i) },
      element(entry, items[i] as Element, budget),
    ])
  }
  return rows
}

/** Member and score rows (a flat `member, score, …` list), until the budget is spent. */
function zsetRows(entry: AdminCache, items: Element[], budget: PageBudget): TreeNode[][] {
  const rows: TreeNode[][] = []
  for (let i = 0; i + 1 < items.length && (rows.length === 0 || !spent(budget)); i += 2) {
    rows.push([
      element(entry, items[i] as Element, budget),
      { type: 'float', value: scoreText(items[i + 1]) },
    ])
  }
  return rows
}

/**
 * A score as the tree shows a float (`String` of the number): Redis sends `inf` and `-inf` for
 * the infinite ones, which `Number` does not read, as `Infinity` and `-Infinity`.
 */
function scoreText(score: Element | undefined): string {
  if (!Buffer.isBuffer(score)) return 'NaN'
  const text = score.toString('latin1').trim().toLowerCase()
  const infinite = /^([+-]?)inf(inity)?$/.exec(text)
  if (infinite !== null) return infinite[1] === '-' ? '-Infinity' : 'Infinity'
  return String(Number(text))
}

/**
 * Id and fields rows, until the budget is spent; an entry's fields stop there too, its `length`
 * saying how many it has (as a dict cut short does), and so does the page.
 */
function streamRows(entries: StreamEntry[], entry: AdminCache, budget: PageBudget): TreeNode[][] {
  const rows: TreeNode[][] = []
  for (const e of entries) {
    if (rows.length > 0 && spent(budget)) break
    const pairs: Array<[TreeNode, TreeNode]> = []
    for (let i = 0; i + 1 < e.fields.length && !spent(budget); i += 2) {
      pairs.push([
        label(e.fields[i] as Element, budget),
        element(entry, e.fields[i + 1] as Element, budget),
      ])
    }
    const id: TreeNode = { type: 'str', value: e.id }
    rows.push([id, { type: 'dict', entries: pairs, length: e.pairs }])
    // An entry cut short (here, or by the fetch's bound on fields) ends the page: the next one
    // starts after it.
    if (pairs.length < e.pairs) break
  }
  return rows
}

/** A SCAN-family cursor: `null` when it is back at 0. */
function endOf(next: unknown): string | null {
  const text = Buffer.isBuffer(next) ? next.toString() : String(next ?? '0')
  return text === '0' ? null : text
}
