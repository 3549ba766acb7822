// What a caller's code threw, in words, for a message that quotes it: whatever was thrown.

/**
 * The message of `error`, or the thrown value as text; a fixed phrase for a value that has none
 * (`Object.create(null)`, a `toString` or a `message` getter that throws, a revoked Proxy, a
 * `message` that is a Symbol): the
 * message that quotes it must not itself fail, and turn a refusal into another error.
 */
export function thrownText(error: unknown): string {
  try {
    return String(isInstance(error, Error) ? (error as Error).message : error)
  } catch {
    return 'a value that cannot be shown'
  }
}

/**
 * `value instanceof type`, `false` where asking throws: `instanceof` asks a Proxy's
 * `getPrototypeOf` trap, and a revoked Proxy (a caller's code may throw one) throws there.
 * cachex's own error classes answer so themselves (`errors.ts`).
 */
function isInstance(value: unknown, type: abstract new (...args: never[]) => unknown): boolean {
  try {
    return value instanceof type
  } catch {
    return false
  }
}
