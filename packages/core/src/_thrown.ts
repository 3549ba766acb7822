// What a caller's code threw, in words, for a message that quotes it: whatever was thrown.

/**
 * The message of `error`, or the thrown value as text; a fixed phrase for a value that has none
 * (`Object.create(null)`, a `toString` or a `message` getter that throws, a revoked Proxy): the
 * message that quotes it must not itself fail, and turn a refusal into another error.
 */
export function thrownText(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error)
  } catch {
    return 'a value that cannot be shown'
  }
}
