// The server pages of a cache: INFO, the slow log, the charts (memory by prefix, hit rate) and
// deletePattern (a dry-run count, then a progress bar).
import { ApiError, api, errorText, segment, url } from './api.ts'
import { hitChart, memoryChart } from './charts.ts'
import { append, bytes, clear, h, notice } from './dom.ts'
import type { Context } from './pages-keys.ts'
import { href } from './router.ts'
import type { HitsView, InfoSummary, InfoView, JobView, MemoryView, SlowlogRow } from './types.ts'

/**
 * `INFO`, chosen fields. On a cluster: the sums over its primaries first, then each primary's
 * (one that did not answer, its error).
 */
export async function infoPage(view: HTMLElement, context: Context): Promise<void> {
  const alias = context.place.alias as string
  const info = await api<InfoView>('GET', `api/caches/${segment(alias)}/info`)
  if (!context.current()) return
  append(view, h('h1', {}, 'INFO'))
  const nodes = info.nodes
  if (info.hitRatio !== null) {
    const label = nodes === undefined ? 'Server hit ratio' : 'Cluster hit ratio'
    view.appendChild(h('p', { class: 'big' }, `${label}: ${(info.hitRatio * 100).toFixed(1)} %`))
  }
  view.appendChild(infoCards(info, nodes === undefined ? 'Keyspace' : 'Keyspace (all primaries)'))
  for (const node of nodes ?? []) {
    view.appendChild(h('h2', {}, 'Primary ', h('code', {}, node.address)))
    if ('error' in node) {
      view.appendChild(notice('error', `No answer: ${node.error}`))
      continue
    }
    if (node.hitRatio !== null) {
      view.appendChild(h('p', {}, `Hit ratio: ${(node.hitRatio * 100).toFixed(1)} %`))
    }
    view.appendChild(infoCards(node, 'Keyspace'))
  }
}

/** One server's chosen fields (or a cluster's sums), a card per section, and its keyspace. */
function infoCards(info: InfoSummary, keyspaceTitle: string): HTMLElement {
  const grid = h('div', { class: 'cards' })
  for (const section of info.sections) {
    grid.appendChild(
      h(
        'section',
        { class: 'card' },
        h('h2', {}, section.name),
        h(
          'table',
          { class: 'kv' },
          h(
            'tbody',
            {},
            ...section.fields.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v))),
          ),
        ),
      ),
    )
  }
  if (info.keyspace.length > 0) {
    grid.appendChild(
      h(
        'section',
        { class: 'card' },
        h('h2', {}, keyspaceTitle),
        h(
          'table',
          { class: 'kv' },
          h(
            'tbody',
            {},
            ...info.keyspace.map((db) =>
              h(
                'tr',
                {},
                h('th', {}, db.db),
                h('td', {}, `${db.keys} keys, ${db.expires} with a TTL`),
              ),
            ),
          ),
        ),
      ),
    )
  }
  return grid
}

/** The slow log, newest first. */
export async function slowlogPage(view: HTMLElement, context: Context): Promise<void> {
  const alias = context.place.alias as string
  const { entries } = await api<{ entries: SlowlogRow[] }>(
    'GET',
    url(`api/caches/${segment(alias)}/slowlog`, { count: 100 }),
  )
  if (!context.current()) return
  append(
    view,
    h('h1', {}, 'Slow log'),
    entries.length === 0
      ? notice('info', 'The slow log is empty.')
      : h(
          'table',
          { class: 'grid' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['#', 'When', 'Duration', 'Command', 'Client'].map((t) => h('th', {}, t)),
            ),
          ),
          h(
            'tbody',
            {},
            ...entries.map((e) =>
              h(
                'tr',
                {},
                h('td', { class: 'num' }, String(e.id)),
                h('td', {}, new Date(e.time * 1000).toLocaleString()),
                h('td', { class: 'num' }, `${(e.duration / 1000).toFixed(2)} ms`),
                h('td', {}, h('code', {}, e.command.join(' '))),
                h('td', {}, e.client),
              ),
            ),
          ),
        ),
  )
}

/** Memory by key prefix and the hit rate over time, as charts. */
export async function statsPage(view: HTMLElement, context: Context): Promise<void> {
  const alias = context.place.alias as string
  const hitsBox = h('div', { class: 'chart-box' })
  const memoryBox = h('div', { class: 'chart-box' }, h('p', { class: 'muted' }, 'Sampling keys…'))
  append(
    view,
    h('h1', {}, 'Charts'),
    h('h2', {}, 'Hit rate over time'),
    hitsBox,
    h('h2', {}, 'Memory by key prefix'),
    memoryBox,
  )
  const drawHits = async () => {
    const hits = await api<HitsView>('GET', `api/caches/${segment(alias)}/hits`)
    if (!context.current()) return
    clear(hitsBox)
    if (!hits.available) {
      hitsBox.appendChild(
        notice('info', 'This cache emits no hit/miss events (cache.on): no hit rate to show.'),
      )
      return
    }
    const total = hits.buckets.reduce((n, b) => n + b.hits + b.misses, 0)
    const hitCount = hits.buckets.reduce((n, b) => n + b.hits, 0)
    append(
      hitsBox,
      h(
        'p',
        {},
        total === 0
          ? 'No reads counted yet.'
          : `${hitCount} hits of ${total} reads (${((hitCount / total) * 100).toFixed(1)} %) in the last hour, per ${hits.bucketSeconds} s; the line is the hit ratio, the bars the reads.`,
      ),
      hitChart(hits),
    )
    setTimeout(() => {
      if (context.current()) void drawHits().catch(() => undefined)
    }, hits.bucketSeconds * 1000)
  }
  const drawMemory = async () => {
    const memory = await api<MemoryView>(
      'GET',
      url(`api/caches/${segment(alias)}/memory`, { samples: 1000 }),
    )
    if (!context.current()) return
    clear(memoryBox)
    const total = memory.groups.reduce((n, g) => n + g.bytes, 0)
    append(
      memoryBox,
      h(
        'p',
        {},
        `${memory.sampled} keys sampled, ${bytes(total)} in all${memory.memoryUsage ? ' (MEMORY USAGE)' : ' (string lengths: MEMORY USAGE is not allowed)'}.`,
      ),
      memory.groups.length === 0 ? notice('info', 'No keys.') : memoryChart(memory),
    )
  }
  await Promise.all([
    drawHits().catch((error) => hitsBox.replaceChildren(notice('error', errorText(error)))),
    drawMemory().catch((error) => memoryBox.replaceChildren(notice('error', errorText(error)))),
  ])
}

/** deletePattern: count the keys first (a dry run), then delete them with a progress bar. */
export async function deletePage(view: HTMLElement, context: Context): Promise<void> {
  const alias = context.place.alias as string
  const path = `api/caches/${segment(alias)}/delete-pattern`
  const patternInput = h('input', {
    type: 'text',
    name: 'pattern',
    value: context.place.params.get('pattern') ?? '',
    placeholder: 'session:*',
    'aria-label': 'pattern',
    size: 40,
    required: true,
  })
  const result = h('div', { class: 'job', 'aria-live': 'polite' })
  const countButton = h('button', { type: 'submit' }, 'Count matching keys')
  const poll = async (job: JobView, onProgress: (job: JobView) => void): Promise<JobView> => {
    let current = job
    while (current.state === 'running' && context.current()) {
      onProgress(current)
      await new Promise((resolve) => setTimeout(resolve, 200))
      current = await api<JobView>('GET', `api/jobs/${encodeURIComponent(job.id)}`)
    }
    onProgress(current)
    return current
  }
  const startDelete = async (pattern: string, expected: number) => {
    clear(result)
    const progress = h('progress', {
      max: Math.max(1, expected),
      value: 0,
      'aria-label': 'deleted',
    })
    const label = h('span', { class: 'progress-label' }, `0 of ${expected} deleted`)
    const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel')
    append(result, h('div', { class: 'progress' }, progress, label), cancel)
    let job: JobView
    try {
      job = await api<JobView>('POST', path, { pattern, expected })
    } catch (error) {
      result.replaceChildren(notice('error', errorText(error)))
      return
    }
    cancel.addEventListener(
      'click',
      () => void api('DELETE', `api/jobs/${encodeURIComponent(job.id)}`).catch(() => undefined),
    )
    const done = await poll(job, (j) => {
      progress.max = Math.max(1, expected, j.deleted)
      progress.value = j.deleted
      label.textContent = `${j.deleted} of ${Math.max(expected, j.deleted)} deleted`
    })
    cancel.remove()
    if (done.state === 'done')
      result.appendChild(
        notice(
          'ok',
          `Deleted ${done.deleted} key${done.deleted === 1 ? '' : 's'} matching ${pattern}.`,
        ),
      )
    else if (done.state === 'cancelled')
      result.appendChild(notice('info', `Cancelled after ${done.deleted} keys.`))
    else result.appendChild(notice('error', done.error ?? done.state))
  }
  const form = h(
    'form',
    {
      class: 'toolbar',
      onsubmit: async (event: Event) => {
        event.preventDefault()
        const pattern = patternInput.value.trim()
        if (pattern === '') return
        countButton.disabled = true
        clear(result)
        result.appendChild(h('p', { class: 'muted' }, 'Counting…'))
        try {
          const job = await api<JobView>('POST', path, { pattern, dryRun: true })
          const done = await poll(job, (j) => {
            result.replaceChildren(h('p', { class: 'muted' }, `Counting… ${j.matched}`))
          })
          if (!context.current()) return
          clear(result)
          if (done.state !== 'done') {
            result.appendChild(notice('error', done.error ?? done.state))
            return
          }
          result.appendChild(
            h(
              'p',
              { class: 'count' },
              `${done.matched} key${done.matched === 1 ? '' : 's'} match `,
              h('code', {}, pattern),
              '.',
            ),
          )
          if (done.matched > 0 && !context.session.readOnly) {
            result.appendChild(
              h(
                'button',
                {
                  type: 'button',
                  class: 'danger',
                  onclick: () => void startDelete(pattern, done.matched),
                },
                `Delete ${done.matched} key${done.matched === 1 ? '' : 's'}`,
              ),
            )
          }
        } catch (error) {
          result.replaceChildren(
            notice('error', error instanceof ApiError ? error.message : errorText(error)),
          )
        } finally {
          countButton.disabled = false
        }
      },
    },
    h('label', {}, 'Pattern ', patternInput),
    countButton,
  )
  append(
    view,
    h('h1', {}, 'Delete by pattern'),
    h(
      'p',
      { class: 'muted' },
      'A glob over this cache’s keys (its prefix and version are added). Nothing is deleted before you have seen how many keys match. ',
      h('a', { href: href('keys', alias) }, 'Browse the keys'),
    ),
    form,
    result,
  )
}
