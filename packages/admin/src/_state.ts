// What a request of the admin is handled with: the handler's state (made once by
// `createAdminHandler`) and the request, parsed.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Auth, Sessions } from './_auth.ts'
import type { CacheSet } from './_caches.ts'
import type { Jobs } from './_jobs.ts'
import type { KeyWalks } from './_keys.ts'
import type { AdminAuditEntry } from './options.ts'

/** What one admin handler holds. */
export interface State {
  auth: Auth
  caches: CacheSet
  readOnly: boolean
  basePath: string
  audit: (entry: AdminAuditEntry) => void
  sessions: Sessions
  walks: KeyWalks
  jobs: Jobs
}

/** A request, parsed: the path under the base path, the query, where the base is outside. */
export interface Request {
  req: IncomingMessage
  res: ServerResponse
  /** The path under the base path, from `/` (`/api/caches`). */
  path: string
  query: URLSearchParams
  /** The base path as the browser sees it (`/admin`), for the cookie's `Path`. */
  base: string
  /** The path the browser asked for. */
  external: string
}
