// The rows of a container's page (`./_key-page.ts`): each element decoded by the cache's own codec
// under the page's budget — what the page shows in all (`TreeBudget`) and what its values may
// decompress to (one `Codec.budget()`) — or, past it or unreadable, an error node with its bytes.
import { type Codec, MAX_INSPECT_ITEMS } from '@cachex/core/internal'
import type { TreeNode } from './_api-types.ts'
import type { AdminCache } from './_caches.ts'
import {
  type Element,
  HEAD_BYTES,
  MAX_ELEMENT_BYTES,
  MAX_PAGE_BYTES,
  type StreamEntry,
  type TooLarge,
} from './_container-read.ts'
import { escapeBytes, newBudget, type TreeBudget, toTree } from './_tree.ts'

/** What the values one page decodes may still decompress to (`Codec.budget()`). */
type DecodeBudget = NonNullable<ReturnType<Codec['budget']>>

/**
 * What one page shows (`TreeBudget`) and decompresses: one `Codec.budget()` for all its values
 * (4 × maxValueSize in all), as one call of the cache has, so that a page of compressed values
 * that `lrange` would refuse is not decompressed whole by one request.
 */
export interface PageBudget extends TreeBudget {
  /** What the page's values may still decompress to; `undefined` when nothing bounds it. */
  decompress: DecodeBudget | undefined
  /** What they may decompress to in all, in bytes (for the message past it). */
  decompressBytes: number
}

/** A page's budget: a fresh `TreeBudget`, and one `Codec.budget()` of the cache's codec. */
export function newPageBudget(entry: AdminCache): PageBudget {
  const decompress = entry.internals.codec.budget()
  return { ...newBudget(), decompress, decompressBytes: decompress?.left ?? 0 }
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
    // At most MAX_INSPECT_ITEMS items built: past them, an error node with its bytes.
    const { value, kinds } = codec.inspect(fetched, budget.decompress, MAX_INSPECT_ITEMS)
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

/** The message of what was thrown. */
export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * Field and value rows. An HSCAN cursor cannot resume in the middle of its reply, so every row of
 * it is kept; past the budget they are left undecoded (`element`).
 */
export function hashRows(entry: AdminCache, items: Element[], budget: PageBudget): TreeNode[][] {
  const rows: TreeNode[][] = []
  for (let i = 0; i + 1 < items.length; i += 2) {
    rows.push([label(items[i] as Element, budget), element(entry, items[i + 1] as Element, budget)])
  }
  return rows
}

/** Member rows; as with a hash, the whole SSCAN reply, undecoded past the budget. */
export function setRows(entry: AdminCache, items: Element[], budget: PageBudget): TreeNode[][] {
  return items.map((member) => [element(entry, member, budget)])
}

/** Index and value rows, until the budget is spent (the next page starts where they stop). */
export function listRows(entry: AdminCache, items: Element[], start: number, budget: PageBudget) {
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
export function zsetRows(entry: AdminCache, items: Element[], budget: PageBudget): TreeNode[][] {
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
export function streamRows(
  entries: StreamEntry[],
  entry: AdminCache,
  budget: PageBudget,
): TreeNode[][] {
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
