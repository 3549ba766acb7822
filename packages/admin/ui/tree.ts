// A decoded value on the page: every node as text, Python types marked with a badge (`tuple`,
// `datetime`, `Decimal`, `bytes`…), containers as collapsible lists.
import { badge, h } from './dom.ts'
import type { TreeNode } from './types.ts'

/** Types JSON has no word for: their badge is marked as Python's. */
const PY_TYPES = new Set([
  'tuple',
  'set',
  'frozenset',
  'bytes',
  'bytearray',
  'datetime',
  'date',
  'time',
  'timedelta',
  'Decimal',
  'UUID',
  'timezone',
  'ZoneInfo',
  'SafeString',
  'global',
  'object',
  'none',
])

function pyBadge(type: string): HTMLElement {
  return badge(type === 'none' ? 'None' : type, PY_TYPES.has(type) ? 'py' : '')
}

function more(shown: number, length: number): HTMLElement | null {
  return shown < length ? h('li', { class: 'muted' }, `… ${length - shown} more not shown`) : null
}

/** The element for one node; `open` containers show their items at once. */
export function renderTree(node: TreeNode, depth = 0): HTMLElement {
  switch (node.type) {
    case 'none':
      return h('span', { class: 'v v-none' }, 'None', ' ', pyBadge('none'))
    case 'bool':
      return h('span', { class: 'v v-bool' }, node.value ? 'True' : 'False')
    case 'int':
    case 'float':
      return h('span', { class: 'v v-num', title: node.type }, node.value)
    case 'str':
      return h(
        'span',
        { class: 'v v-str' },
        JSON.stringify(node.value),
        node.length === undefined
          ? null
          : h('span', { class: 'muted' }, ` … (${node.length} characters)`),
      )
    case 'bytes':
    case 'bytearray':
      return h(
        'span',
        { class: 'v v-bytes' },
        `b'${node.value}'`,
        ' ',
        pyBadge(node.type),
        h('span', { class: 'muted' }, ` ${node.length} bytes`),
      )
    case 'list':
    case 'tuple':
    case 'set':
    case 'frozenset': {
      // Lists and tuples are ordered (their indexes shown); sets are not.
      const ordered = node.type === 'list' || node.type === 'tuple'
      const items = ordered
        ? h('ol', { class: 'tree-items', start: 0 })
        : h('ul', { class: 'tree-items' })
      for (const item of node.items) items.appendChild(h('li', {}, renderTree(item, depth + 1)))
      const tail = more(node.items.length, node.length)
      if (tail !== null) items.appendChild(tail)
      return h(
        'details',
        { class: 'tree', open: depth < 3 },
        h('summary', {}, pyBadge(node.type), ` ${node.length} item${node.length === 1 ? '' : 's'}`),
        items,
      )
    }
    case 'dict': {
      const items = h('ul', { class: 'tree-items' })
      for (const [key, value] of node.entries) {
        items.appendChild(
          h(
            'li',
            {},
            h('span', { class: 'tree-key' }, renderTree(key, depth + 1)),
            ': ',
            renderTree(value, depth + 1),
          ),
        )
      }
      const tail = more(node.entries.length, node.length)
      if (tail !== null) items.appendChild(tail)
      return h(
        'details',
        { class: 'tree', open: depth < 3 },
        h(
          'summary',
          {},
          node.class === undefined ? pyBadge('dict') : badge(node.class, 'py'),
          ` ${node.length} key${node.length === 1 ? '' : 's'}`,
        ),
        items,
      )
    }
    case 'cycle':
      return h('span', { class: 'muted' }, '(a container that holds itself)')
    case 'ref':
      return h('span', { class: 'muted' }, '(the same object as shown above)')
    case 'deep':
      return h('span', { class: 'muted' }, '(nested too deep to show)')
    case 'error':
      return h(
        'span',
        { class: 'v v-error' },
        h('span', { class: 'error-text' }, node.message),
        h('code', { class: 'preview' }, `b'${node.preview}'`),
      )
    default:
      return h('span', { class: 'v v-py' }, node.value, ' ', pyBadge(node.type))
  }
}
