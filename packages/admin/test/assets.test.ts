// src/_assets.ts holds the built web app: it must be what `pnpm --filter @cachex/admin build:ui`
// makes of ui/ now, or the handler would serve an old app.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { assetsModule, buildUi } from '../scripts/build-ui.ts'

describe('the built web app', () => {
  it('src/_assets.ts is up to date with ui/ (run `pnpm --filter @cachex/admin build:ui`)', async () => {
    const built = assetsModule(await buildUi())
    const committed = readFileSync(new URL('../src/_assets.ts', import.meta.url), 'utf8')
    expect(
      committed === built,
      'src/_assets.ts is stale: run pnpm --filter @cachex/admin build:ui',
    ).toBe(true)
  })

  it('has no inline script or style, and loads nothing from elsewhere', async () => {
    const files = await buildUi()
    const html = (files['index.html'] as Buffer).toString()
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/)
    expect(html).not.toMatch(/<style|\sstyle=|\son\w+=/)
    for (const [name, body] of Object.entries(files)) {
      expect(body.toString(), name).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/)
    }
    const app = (files['app.js'] as Buffer).toString()
    expect(app).not.toMatch(
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/,
    )
  })
})
