// The charts, as inline SVG built node by node: memory by key prefix (horizontal bars) and the
// hit rate over time (a line of the hit ratio over bars of the request volume).
import { bytes, svg } from './dom.ts'
import type { HitsView, MemoryView } from './types.ts'

/** Memory by prefix: one bar per group, its bytes and key count beside it. */
export function memoryChart(view: MemoryView): SVGElement {
  const groups = view.groups
  const row = 26
  const labelWidth = 190
  const barWidth = 420
  const width = labelWidth + barWidth + 150
  const height = Math.max(row, groups.length * row) + 10
  const max = Math.max(1, ...groups.map((g) => g.bytes))
  const chart = svg('svg', {
    class: 'chart',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': 'memory by key prefix',
  })
  groups.forEach((group, i) => {
    const y = 5 + i * row
    const w = Math.max(1, Math.round((group.bytes / max) * barWidth))
    const label = group.prefix.length > 28 ? `${group.prefix.slice(0, 27)}…` : group.prefix
    chart.appendChild(
      svg(
        'text',
        { x: labelWidth - 8, y: y + 16, 'text-anchor': 'end', class: 'chart-label' },
        label,
      ),
    )
    chart.appendChild(
      svg(
        'rect',
        { x: labelWidth, y: y + 3, width: w, height: row - 8, rx: 3, class: 'bar' },
        svg('title', {}, `${group.prefix}: ${bytes(group.bytes)} in ${group.keys} keys`),
      ),
    )
    chart.appendChild(
      svg(
        'text',
        { x: labelWidth + w + 8, y: y + 16, class: 'chart-value' },
        `${bytes(group.bytes)} · ${group.keys} keys`,
      ),
    )
  })
  return chart
}

/** The hit ratio per bucket (a line, 0–100 %), over bars of hits + misses per bucket. */
export function hitChart(view: HitsView): SVGElement {
  const buckets = view.buckets
  const width = 760
  const height = 240
  const left = 48
  const right = 48
  const top = 12
  const bottom = 28
  const plotW = width - left - right
  const plotH = height - top - bottom
  const chart = svg('svg', {
    class: 'chart',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': 'hit rate over time',
  })
  for (const pct of [0, 50, 100]) {
    const y = top + plotH - (pct / 100) * plotH
    chart.appendChild(svg('line', { x1: left, x2: left + plotW, y1: y, y2: y, class: 'grid' }))
    chart.appendChild(
      svg(
        'text',
        { x: left - 6, y: y + 4, 'text-anchor': 'end', class: 'chart-label' },
        `${pct} %`,
      ),
    )
  }
  if (buckets.length === 0) {
    chart.appendChild(
      svg(
        'text',
        { x: left + plotW / 2, y: top + plotH / 2, 'text-anchor': 'middle', class: 'chart-label' },
        'no reads yet',
      ),
    )
    return chart
  }
  const maxVolume = Math.max(1, ...buckets.map((b) => b.hits + b.misses))
  const step = plotW / Math.max(1, buckets.length)
  const points: string[] = []
  buckets.forEach((b, i) => {
    const total = b.hits + b.misses
    const x = left + i * step
    const barH = (total / maxVolume) * plotH
    chart.appendChild(
      svg(
        'rect',
        {
          x: x + step * 0.1,
          y: top + plotH - barH,
          width: Math.max(1, step * 0.8),
          height: barH,
          class: 'volume',
        },
        svg(
          'title',
          {},
          `${new Date(b.t).toLocaleTimeString()}: ${b.hits} hits, ${b.misses} misses`,
        ),
      ),
    )
    if (total > 0)
      points.push(
        `${(x + step / 2).toFixed(1)},${(top + plotH - (b.hits / total) * plotH).toFixed(1)}`,
      )
  })
  if (points.length > 0)
    chart.appendChild(svg('polyline', { points: points.join(' '), class: 'line' }))
  chart.appendChild(
    svg('text', { x: left + plotW + 6, y: top + 10, class: 'chart-label' }, `${maxVolume}`),
  )
  chart.appendChild(
    svg('text', { x: left + plotW + 6, y: top + 24, class: 'chart-label' }, 'reads'),
  )
  const first = buckets[0]
  const last = buckets[buckets.length - 1]
  if (first !== undefined && last !== undefined) {
    chart.appendChild(
      svg(
        'text',
        { x: left, y: height - 8, class: 'chart-label' },
        new Date(first.t).toLocaleTimeString(),
      ),
    )
    chart.appendChild(
      svg(
        'text',
        { x: left + plotW, y: height - 8, 'text-anchor': 'end', class: 'chart-label' },
        new Date(last.t).toLocaleTimeString(),
      ),
    )
  }
  return chart
}
