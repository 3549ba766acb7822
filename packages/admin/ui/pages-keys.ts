// The caches list, the key browser and the key page.
import { MAX_KEY_URL_CHARS, openable } from '../src/_key-url.ts'
import { api, errorText, segment, url } from './api.ts'
import { append, badge, bytes, h, notice, ttl, visibleName } from './dom.ts'
import { editForm } from './edit-form.ts'
import { href, type Place } from './router.ts'
import { renderTree } from './tree.ts'
import type { CacheInfo, KeyPage, KeyRow, KeyView, SessionInfo, TreeNode } from './types.ts'

/** What every page gets. */
export interface Context {
  session: SessionInfo
  place: Place
  /** Whether the page is still the one shown (a slow answer must not draw over the next page). */
  current(): boolean
}

/** The caches of the registry. */
export async function cachesPage(view: HTMLElement, context: Context): Promise<void> {
  const { caches } = await api<{ caches: CacheInfo[] }>('GET', 'api/caches')
  if (!context.current()) return
  const rows = caches.map((cache) => {
    const cells: HTMLElement[] = [
      h('td', {}, h('a', { href: href('keys', cache.alias), class: 'alias' }, cache.alias)),
    ]
    if (cache.error !== undefined) {
      cells.push(h('td', { colspan: 5 }, notice('error', cache.error)))
    } else {
      cells.push(
        h('td', {}, h('code', {}, cache.keyPrefix === '' ? '(none)' : (cache.keyPrefix ?? ''))),
        h('td', {}, String(cache.version ?? '')),
        h('td', {}, cache.defaultTimeout === null ? 'never' : `${cache.defaultTimeout} s`),
        h('td', {}, h('code', {}, cache.address ?? '–')),
        h(
          'td',
          { class: 'links' },
          h('a', { href: href('keys', cache.alias) }, 'Keys'),
          h('a', { href: href('info', cache.alias) }, 'INFO'),
          h('a', { href: href('slowlog', cache.alias) }, 'Slow log'),
          h('a', { href: href('stats', cache.alias) }, 'Charts'),
          context.session.readOnly
            ? null
            : h('a', { href: href('delete', cache.alias) }, 'Delete by pattern'),
        ),
      )
    }
    return h('tr', {}, ...cells)
  })
  append(
    view,
    h('h1', {}, 'Caches'),
    caches.length === 0
      ? notice('info', 'No cache is configured.')
      : h(
          'table',
          { class: 'grid' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Alias', 'Key prefix', 'Version', 'Default timeout', 'Server', ''].map((t) =>
                h('th', {}, t),
              ),
            ),
          ),
          h('tbody', {}, ...rows),
        ),
  )
}

/** The key browser: a SCAN over a pattern, page by page. */
export async function keysPage(view: HTMLElement, context: Context): Promise<void> {
  const alias = context.place.alias as string
  const pattern = context.place.params.get('pattern') || '*'
  const version = context.place.params.get('version') ?? ''
  const count = Number(context.place.params.get('count') ?? 50)
  const patternInput = h('input', {
    type: 'search',
    name: 'pattern',
    value: pattern,
    'aria-label': 'pattern',
    placeholder: 'user:*',
    size: 40,
  })
  const versionInput = h('input', {
    type: 'number',
    name: 'version',
    value: version,
    'aria-label': 'version',
    placeholder: 'version',
    class: 'narrow',
  })
  const form = h(
    'form',
    {
      class: 'toolbar',
      role: 'search',
      onsubmit: (event: Event) => {
        event.preventDefault()
        location.hash = href('keys', alias, {
          pattern: patternInput.value || '*',
          version: versionInput.value,
        })
      },
    },
    h('label', {}, 'Pattern ', patternInput),
    h('label', {}, 'Version ', versionInput),
    h('button', { type: 'submit' }, 'Search'),
  )
  const body = h('tbody', {})
  const status = h('p', { class: 'muted', 'aria-live': 'polite' })
  const moreButton = h('button', { type: 'button', class: 'secondary' }, 'Load more')
  let cursor: string | null = null
  let shown = 0
  const load = async () => {
    moreButton.disabled = true
    try {
      const page = await api<KeyPage>(
        'GET',
        url(`api/caches/${segment(alias)}/keys`, {
          pattern,
          version,
          count,
          cursor: cursor ?? undefined,
        }),
      )
      if (!context.current()) return
      for (const row of page.keys) {
        body.appendChild(
          h(
            'tr',
            {},
            h('td', {}, keyCell(row, alias, version)),
            h('td', {}, badge(row.type, `t-${row.type}`)),
            h('td', {}, ttl(row.ttl)),
            h('td', { class: 'num' }, bytes(row.size)),
          ),
        )
      }
      shown += page.keys.length
      cursor = page.cursor
      status.textContent =
        cursor === null
          ? `${shown} key${shown === 1 ? '' : 's'} match ${pattern}.`
          : `${shown} keys so far (the scan goes on).`
      moreButton.hidden = cursor === null
    } catch (error) {
      status.replaceWith(notice('error', errorText(error)))
    } finally {
      moreButton.disabled = false
    }
  }
  moreButton.addEventListener('click', () => void load())
  append(
    view,
    h('h1', {}, 'Keys'),
    form,
    h(
      'table',
      { class: 'grid keys' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'Key'),
          h('th', {}, 'Type'),
          h('th', {}, 'TTL'),
          h('th', {}, 'Size'),
        ),
      ),
      body,
    ),
    status,
    moreButton,
  )
  await load()
}

/** The key page: the decoded value, its metadata, edit with compare-and-set, delete. */
export async function keyPage(view: HTMLElement, context: Context): Promise<void> {
  const alias = context.place.alias as string
  const key = context.place.params.get('k') ?? ''
  const version = context.place.params.get('v') ?? ''
  const path = `api/caches/${segment(alias)}/key`
  let data: KeyView
  try {
    if (!openable(key)) throw new Error(TOO_LONG)
    data = await api<KeyView>('GET', url(path, { key, version }))
  } catch (error) {
    if (!context.current()) return
    append(
      view,
      h('h1', { class: 'key-title' }, openable(key) ? key : `${key.slice(0, 1024)}…`),
      notice('error', errorText(error)),
      h('p', {}, h('a', { href: href('keys', alias) }, '← Back to the keys')),
    )
    return
  }
  if (!context.current()) return
  const messages = h('div', { class: 'messages' })
  const reload = () => {
    window.dispatchEvent(new HashChangeEvent('hashchange'))
  }
  const meta = h(
    'dl',
    { class: 'meta' },
    h('dt', {}, 'Type'),
    h('dd', {}, badge(data.type, `t-${data.type}`)),
    h('dt', {}, 'TTL'),
    h('dd', { class: 'ttl' }, ttl(data.ttl)),
    h('dt', {}, 'Size'),
    h('dd', {}, bytes(data.size)),
    h('dt', {}, 'Redis key'),
    h('dd', {}, h('code', {}, data.redisKey)),
    data.string === undefined ? null : h('dt', {}, 'Stored as'),
    data.string === undefined
      ? null
      : h(
          'dd',
          {},
          data.string.serializer === null &&
            data.string.error === undefined &&
            data.string.tooLarge !== true
            ? 'integer digits'
            : [
                data.string.serializer ?? '?',
                data.string.compressor === null ? '' : ` + ${data.string.compressor}`,
              ].join(''),
          ` · ${bytes(data.string.length)}`,
        ),
  )
  const value = h('section', { class: 'value', 'aria-label': 'value' })
  if (data.string !== undefined) {
    const s = data.string
    if (s.tree !== undefined)
      value.appendChild(h('div', { class: 'tree-root' }, renderTree(s.tree)))
    if (s.error !== undefined) {
      value.appendChild(notice('error', 'This value cannot be shown: ', s.error))
    }
    if (s.tooLarge === true)
      value.appendChild(
        notice('info', `This value (${bytes(s.length)}) is too large to show; its first bytes:`),
      )
    if (s.preview !== undefined)
      value.appendChild(h('pre', { class: 'preview' }, `b'${s.preview}'`))
  }
  if (data.container !== undefined)
    value.appendChild(containerTable(data, path, key, version, context))
  append(
    view,
    h('p', { class: 'crumbs' }, h('a', { href: href('keys', alias) }, `← ${alias}`)),
    h('h1', { class: 'key-title' }, ...visibleName(data.key)),
    meta,
    messages,
    value,
  )
  if (!data.readOnly) view.appendChild(editForm(data, alias, path, key, version, messages, reload))
}

function containerTable(
  data: KeyView,
  path: string,
  key: string,
  version: string,
  context: Context,
): HTMLElement {
  const container = data.container as NonNullable<KeyView['container']>
  const body = h('tbody', {})
  const status = h('p', { class: 'muted' })
  const more = h('button', { type: 'button', class: 'secondary' }, 'Load more')
  let cursor = container.cursor
  let shown = 0
  const add = (rows: TreeNode[][]) => {
    for (const row of rows)
      body.appendChild(h('tr', {}, ...row.map((cell) => h('td', {}, renderTree(cell)))))
    shown += rows.length
    status.textContent = `${shown} of ${container.total} shown`
    more.hidden = cursor === null
  }
  more.addEventListener('click', async () => {
    more.disabled = true
    try {
      const next = await api<KeyView>(
        'GET',
        url(path, { key, version, cursor: cursor ?? undefined }),
      )
      if (!context.current() || next.container === undefined) return
      cursor = next.container.cursor
      add(next.container.rows)
    } catch (error) {
      status.textContent = errorText(error)
    } finally {
      more.disabled = false
    }
  })
  const table = h(
    'table',
    { class: 'grid rows' },
    h('thead', {}, h('tr', {}, ...container.columns.map((c) => h('th', {}, c)))),
    body,
  )
  add(container.rows)
  return h('div', {}, table, status, more)
}

/** Why a key whose name is too long for a URL has no page (see `MAX_KEY_URL_CHARS`). */
const TOO_LONG = `This name is too long for the admin to open: a key's page carries the name in its URL, which servers bound (Node: 16 KiB with the headers), and names of up to ${MAX_KEY_URL_CHARS} characters percent-encoded open here.`

/**
 * A key's name, linked to its page; a name that is not UTF-8 is shown (lossily, with its bytes in
 * hex) but not linked: the admin cannot name that key, and its lossy name may be another key's.
 * Nor is a name the server cut short (`truncated`): its first characters are not the key.
 */
function keyCell(row: KeyRow, alias: string, version: string): HTMLElement {
  const cut = row.truncated === true
  const long = !cut && !openable(row.key)
  if (row.notUtf8 === undefined && !cut && !long) {
    return h(
      'a',
      { href: href('key', alias, { k: row.key, v: version }), class: 'key' },
      ...visibleName(row.key),
    )
  }
  const notes: HTMLElement[] = []
  if (cut) notes.push(badge(`name cut: ${row.keyLength ?? '?'} characters`, 'cut'))
  if (long) notes.push(badge(`too long to open: ${row.key.length} characters`, 'cut'))
  if (row.notUtf8 !== undefined) {
    notes.push(
      badge('not UTF-8', 'not-utf8'),
      h('code', { class: 'muted' }, `bytes: ${row.notUtf8}${cut ? '…' : ''}`),
    )
  }
  return h(
    'span',
    {
      class: 'key',
      title:
        row.notUtf8 !== undefined
          ? 'This name is not UTF-8: the admin cannot open, edit or delete this key.'
          : long
            ? TOO_LONG
            : 'This name is too long to list whole: the admin cannot open this key from here.',
    },
    ...visibleName(row.key),
    cut ? '…' : '',
    ...notes.flatMap((note) => [' ', note]),
  )
}
