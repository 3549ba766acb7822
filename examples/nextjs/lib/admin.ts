import { type AdminHandler, createAdminHandler } from '@cachex/admin'
import { cache } from './cache'

/** Where the admin UI is served: the Pages Router API route `pages/api/admin/[[...path]].ts`. */
export const ADMIN_PATH = '/api/admin'

// The admin UI (`@cachex/admin`), only when CACHEX_ADMIN_TOKEN is set: the example never serves it
// without credentials (a token shorter than 16 characters makes the admin route throw). Kept on
// `globalThis`, as the cache is, so that one handler (its sessions, its key listings) serves
// every request however often Next.js evaluates this module.
const globalForAdmin = globalThis as typeof globalThis & { cachexExampleAdmin?: AdminHandler }

function createAdmin(): AdminHandler | undefined {
  const token = process.env.CACHEX_ADMIN_TOKEN
  if (!token) return undefined
  // A Next.js route sees the whole path in `req.url`: the admin strips its base path.
  return createAdminHandler({ caches: { default: cache }, auth: { token }, basePath: ADMIN_PATH })
}

globalForAdmin.cachexExampleAdmin ??= createAdmin()

/** The admin's request handler, or `undefined` when `CACHEX_ADMIN_TOKEN` is not set. */
export const admin: AdminHandler | undefined = globalForAdmin.cachexExampleAdmin
