// A small SVG line chart on log–log axes, written by hand so that the benchmarks need no plotting
// dependency. Used by `pnpm bench:peers` for docs/img/peers-*.svg.

/** One line of a chart: points (x, y), x ascending; y ≤ 0 points are left out. */
export interface Series {
  name: string
  points: [number, number][]
}

/** What `lineChart` draws. */
export interface Chart {
  title: string
  xLabel: string
  yLabel: string
  series: Series[]
  /** Formats an x tick (a power of 10). */
  xTick?: (x: number) => string
}

const COLORS = ['#d6336c', '#1c7ed6', '#f08c00', '#2b8a3e', '#7048e8', '#495057']
const W = 680
const H = 380
const M = { left: 72, right: 230, top: 40, bottom: 52 }

const xml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** Compact numbers for ticks: 1, 10, 100, 1k, 10k, 1M. */
export function short(n: number): string {
  if (n >= 1e9) return `${n / 1e9}G`
  if (n >= 1e6) return `${n / 1e6}M`
  if (n >= 1e3) return `${n / 1e3}k`
  return String(n)
}

/** An SVG document: the series on log10 x and y axes, with a legend on the right. */
export function lineChart(chart: Chart): string {
  const points = chart.series.flatMap((s) => s.points).filter(([x, y]) => x > 0 && y > 0)
  const xs = points.map(([x]) => Math.log10(x))
  const ys = points.map(([, y]) => Math.log10(y))
  const x0 = Math.floor(Math.min(...xs))
  const x1 = Math.max(x0 + 1, Math.ceil(Math.max(...xs)))
  const y0 = Math.floor(Math.min(...ys))
  const y1 = Math.max(y0 + 1, Math.ceil(Math.max(...ys)))
  const pw = W - M.left - M.right
  const ph = H - M.top - M.bottom
  const px = (x: number) => M.left + ((Math.log10(x) - x0) / (x1 - x0)) * pw
  const py = (y: number) => M.top + ph - ((Math.log10(y) - y0) / (y1 - y0)) * ph
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<title>${xml(chart.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${M.left}" y="22" font-size="14" font-weight="bold">${xml(chart.title)}</text>`,
  ]
  const xTick = chart.xTick ?? short
  for (let e = x0; e <= x1; e++) {
    const x = px(10 ** e)
    out.push(
      `<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + ph}" stroke="#e9ecef"/>`,
      `<text x="${x}" y="${M.top + ph + 18}" text-anchor="middle">${xml(xTick(10 ** e))}</text>`,
    )
  }
  for (let e = y0; e <= y1; e++) {
    const y = py(10 ** e)
    out.push(
      `<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#e9ecef"/>`,
      `<text x="${M.left - 8}" y="${y + 4}" text-anchor="end">${short(10 ** e)}</text>`,
    )
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#adb5bd"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">${xml(chart.xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${xml(chart.yLabel)}</text>`,
  )
  chart.series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length]
    const pts = series.points.filter(([x, y]) => x > 0 && y > 0)
    const path = pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')
    out.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>`)
    for (const [x, y] of pts)
      out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"/>`)
    const ly = M.top + 10 + i * 20
    out.push(
      `<line x1="${M.left + pw + 14}" y1="${ly}" x2="${M.left + pw + 34}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${M.left + pw + 40}" y="${ly + 4}">${xml(series.name)}</text>`,
    )
  })
  out.push('</svg>', '')
  return out.join('\n')
}
