// What the tests of a refused password share: the passwords, the hint's words, and calls that
// must fail fast with them.
import { type Cache, ConnectionError } from '@cachex/redis'
import { expect } from 'vitest'

/** The password the servers require. */
export const PASSWORD = 'Right-Pw-42'
/** A password they refuse. */
export const WRONG = 'Wr0ng-Pw-17'
/** The hint of a refused `WRONGPASS`. */
export const WRONGPASS_HINT = /the user name or password given is wrong/

/** The error `run` rejects with, and how long it took, in milliseconds. */
export async function failure(
  run: () => Promise<unknown>,
): Promise<{ error: unknown; ms: number }> {
  const start = performance.now()
  try {
    await run()
  } catch (error) {
    return { error, ms: performance.now() - start }
  }
  throw new Error('the call succeeded')
}

/**
 * Checks that a few calls of `cache` fail fast with a `ConnectionError` carrying `hint` and Redis's
 * `code`, never a password, and not as a reply that did not come.
 */
export async function expectHint(cache: Cache, hint: RegExp, code: RegExp): Promise<void> {
  for (const [i, call] of [
    () => cache.get('k'),
    () => cache.set('k', 1),
    () => cache.get('k'),
  ].entries()) {
    const { error, ms } = await failure(call)
    expect(error, `call ${i}`).toBeInstanceOf(ConnectionError)
    const message = (error as Error).message
    expect(message, `call ${i}`).toMatch(hint)
    expect(message, `call ${i}`).toMatch(code)
    expect(message, `call ${i}`).not.toContain(WRONG)
    expect(message, `call ${i}`).not.toContain(PASSWORD)
    expect(message, `call ${i}`).not.toMatch(/may or may not have been applied|no reply/)
    // Not after socketTimeout: nothing waits for a reply that will not come.
    expect(ms, `call ${i}`).toBeLessThan(2000)
  }
}
