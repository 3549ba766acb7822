// One key as its page shows it: type, TTL, size and revision (what a write checks), and its value
// decoded by the cache's own codec — a string as a tree of typed nodes (its JSON too when it can
// be edited as JSON), a container as a page of rows. A value the codec cannot read is shown as
// escaped bytes with the codec's error; nothing read here is trusted.

import type { ContainerView, KeyView, StringView, TreeNode } from './_api-types.ts'
import type { AdminCache } from './_caches.ts'
import { revisionOf, serverRevision } from './_cas.ts'
import { HttpError } from './_http.ts'
import { sizeOf, ttlSeconds } from './_keys.ts'
import { editableJson, escapeBytes, newBudget, type TreeBudget, toTree } from './_tree.ts'

/** A string longer than this is not fetched: its first bytes are shown, and Redis hashes it. */
export const MAX_FETCH_BYTES = 16 * 1024 * 1024
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
  if (kind === 'none') throw new HttpError(404, `there is no key '${key}'`, 'not_found')
  const view: KeyView = {
    key,
    redisKey,
    version,
    type: kind,
    ttl: ttlSeconds(Number(pttl)),
    size: await sizeOf(entry, redisKey, kind),
    revision: revisionOf(kind),
  }
  const budget = newBudget()
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
    if (!Buffer.isBuffer(raw)) {
      throw new HttpError(409, `the key '${key}' changed while it was read: reload`, 'conflict')
    }
    view.revision = revisionOf('string', raw)
    view.string = decodeString(entry, raw, budget)
    return view
  }
  view.container = await readContainer(entry, kind, redisKey, cursor, count, budget)
  return view
}

function decodeString(entry: AdminCache, raw: Buffer, budget: TreeBudget): StringView {
  try {
    const { value, serializer, compressor, kinds } = entry.internals.codec.inspect(raw)
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

/** A stored element decoded by the codec, or an error node with its bytes. */
function element(entry: AdminCache, reply: unknown, budget: TreeBudget): TreeNode {
  const raw = Buffer.isBuffer(reply) ? reply : Buffer.from(String(reply ?? ''))
  try {
    const { value, kinds } = entry.internals.codec.inspect(raw)
    return toTree(value, kinds, budget)
  } catch (error) {
    return {
      type: 'error',
      message: message(error),
      preview: escapeBytes(raw.subarray(0, 256), 1024),
      length: raw.length,
    }
  }
}

/** A field name or stream id: text, shown as is (bounded). */
function label(reply: unknown, budget: TreeBudget): TreeNode {
  const text = Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply ?? '')
  return toTree(text, undefined, budget)
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function list(reply: unknown): unknown[] {
  return Array.isArray(reply) ? reply : []
}

async function readContainer(
  entry: AdminCache,
  kind: string,
  redisKey: string,
  cursor: string | undefined,
  count: number,
  budget: TreeBudget,
): Promise<ContainerView> {
  const connection = entry.cache.connection
  const route = { key: redisKey, readonly: true }
  const run = (args: string[]) => connection.command(args, route)
  const at = cursor ?? '0'
  if (
    (kind === 'hash' || kind === 'set' || kind === 'list' || kind === 'zset') &&
    !/^\d{1,20}$/.test(at)
  ) {
    throw new HttpError(400, 'cursor must be a number')
  }
  switch (kind) {
    case 'hash': {
      const [total, reply] = await Promise.all([
        run(['HLEN', redisKey]),
        run(['HSCAN', redisKey, at, 'COUNT', String(count)]),
      ])
      const [next, flat] = list(reply)
      const items = list(flat)
      const rows: TreeNode[][] = []
      for (let i = 0; i + 1 < items.length; i += 2) {
        rows.push([label(items[i], budget), element(entry, items[i + 1], budget)])
      }
      return { columns: ['field', 'value'], rows, total: Number(total), cursor: endOf(next) }
    }
    case 'set': {
      const [total, reply] = await Promise.all([
        run(['SCARD', redisKey]),
        run(['SSCAN', redisKey, at, 'COUNT', String(count)]),
      ])
      const [next, members] = list(reply)
      const rows = list(members).map((m) => [element(entry, m, budget)])
      return { columns: ['member'], rows, total: Number(total), cursor: endOf(next) }
    }
    case 'list': {
      const start = Number(at)
      const [total, reply] = await Promise.all([
        run(['LLEN', redisKey]),
        run(['LRANGE', redisKey, String(start), String(start + count - 1)]),
      ])
      const rows = list(reply).map((v, i) => [
        { type: 'int', value: String(start + i) } as TreeNode,
        element(entry, v, budget),
      ])
      const next = start + rows.length
      return {
        columns: ['index', 'value'],
        rows,
        total: Number(total),
        cursor: rows.length === count && next < Number(total) ? String(next) : null,
      }
    }
    case 'zset': {
      const start = Number(at)
      const [total, reply] = await Promise.all([
        run(['ZCARD', redisKey]),
        run(['ZRANGE', redisKey, String(start), String(start + count - 1), 'WITHSCORES']),
      ])
      const rows = scored(list(reply)).map(([member, score]) => [
        element(entry, member, budget),
        { type: 'float', value: String(score) } as TreeNode,
      ])
      const next = start + rows.length
      return {
        columns: ['member', 'score'],
        rows,
        total: Number(total),
        cursor: rows.length === count && next < Number(total) ? String(next) : null,
      }
    }
    case 'stream': {
      if (cursor !== undefined && !/^\d{1,20}-\d{1,20}$/.test(cursor)) {
        throw new HttpError(400, 'cursor must be a stream id')
      }
      const [total, reply] = await Promise.all([
        run(['XLEN', redisKey]),
        run([
          'XRANGE',
          redisKey,
          cursor === undefined ? '-' : `(${cursor}`,
          '+',
          'COUNT',
          String(count),
        ]),
      ])
      const entries = list(reply)
      const rows = entries.map((e) => {
        const [id, fields] = list(e)
        const flat = list(fields)
        const pairs: Array<[TreeNode, TreeNode]> = []
        for (let i = 0; i + 1 < flat.length; i += 2) {
          pairs.push([label(flat[i], budget), element(entry, flat[i + 1], budget)])
        }
        return [
          label(id, budget),
          { type: 'dict', entries: pairs, length: pairs.length } as TreeNode,
        ]
      })
      const last = list(entries[entries.length - 1])[0]
      return {
        columns: ['id', 'fields'],
        rows,
        total: Number(total),
        cursor: entries.length === count && last !== undefined ? String(last) : null,
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

/** `ZRANGE … WITHSCORES`: RESP3 `[[member, score], …]` pairs, or RESP2's flat list. */
function scored(reply: unknown[]): Array<[unknown, number]> {
  if (reply.every((item) => Array.isArray(item))) {
    return reply.map((pair) => {
      const [member, score] = pair as [unknown, unknown]
      return [member, Number(Buffer.isBuffer(score) ? score.toString() : score)]
    })
  }
  const out: Array<[unknown, number]> = []
  for (let i = 0; i + 1 < reply.length; i += 2) {
    const score = reply[i + 1]
    out.push([reply[i], Number(Buffer.isBuffer(score) ? score.toString() : score)])
  }
  return out
}
