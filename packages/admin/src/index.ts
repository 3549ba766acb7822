// `@cachex/admin`: a key browser for cachex caches, as one `node:http` request handler.
export { createAdminHandler } from './handler.ts'
export type {
  AdminAuditEntry,
  AdminAuthFunction,
  AdminCacheRegistry,
  AdminCaches,
  AdminHandler,
  AdminOptions,
  AdminTokenAuth,
} from './options.ts'
