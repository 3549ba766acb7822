// A key read in several commands (its TYPE, then its value) can change between them: another
// client deletes it and writes it again as another type. The read then gets WRONGTYPE (or a nil
// GET), and the page answers 409: the key changed, reload it.
import { bounded } from '@cachex/core/internal'
import { HttpError } from './_http.ts'

/** The 409 of a key that changed while its page was read. */
export function changedWhileRead(key: string): HttpError {
  return new HttpError(
    409,
    `the key '${bounded(key)}' changed while it was read: reload`,
    'conflict',
  )
}

/**
 * Runs `read` (the reads after `key`'s TYPE); a WRONGTYPE reply from Redis, its type changed since,
 * becomes `changedWhileRead`. By the error's code and message: the cache may come from another copy
 * of @cachex/core than the admin's.
 */
export async function whileTypeHolds<T>(key: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
    if (code === 'E_RESPONSE' && /\bWRONGTYPE\b/.test(String(message))) {
      throw changedWhileRead(key)
    }
    throw error
  }
}
