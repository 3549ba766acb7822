// The web app's files, built into _assets.ts (`pnpm --filter @cachex/admin build:ui`) and served
// from memory with strong ETags: no file is read at run time, so the handler works the same from
// the sources, from dist/, and from a bundle.
import { createHash } from 'node:crypto'
import { ASSET_FILES } from './_assets.ts'

/** One file of the web app. */
export interface Asset {
  type: string
  body: Buffer
  etag: string
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
}

let table: Map<string, Asset> | undefined

/** The file `name` (`index.html`, `app.js`…), or `undefined`. */
export function asset(name: string): Asset | undefined {
  if (table === undefined) {
    table = new Map()
    for (const [file, base64] of Object.entries(ASSET_FILES)) {
      const body = Buffer.from(base64, 'base64')
      const extension = file.slice(file.lastIndexOf('.') + 1)
      const etag = `"${createHash('sha1').update(body).digest('base64url')}"`
      table.set(file, { type: TYPES[extension] ?? 'application/octet-stream', body, etag })
    }
  }
  return table.get(name)
}
