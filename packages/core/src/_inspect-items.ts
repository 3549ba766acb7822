// The bound on what inspecting one stored value builds (`Codec.inspect`, for inspection tools
// such as the admin UI, which runs inside the application's process): a value within
// `maxValueSize` can still hold tens of millions of items (60 MiB of msgpack empty arrays is 63
// million arrays, 15 s of building), of which a tool shows a few thousand. Past the bound the
// serializers refuse it, before building all of it, with the error made here; `deserialize` and
// `get` are not bounded by it.
import { SerializationError } from './errors.ts'

/**
 * The most items (each value — a container, or an array's element, a map's value — the value
 * itself included; a map's keys are not counted, but pickle's are) that inspecting one stored
 * value builds by default. Building 250,000 took 10–50 ms with msgpack, 10–90 ms with pickle and
 * 40–170 ms with JSON (its inspecting parser is the slower one) on a 2-core machine, a million
 * about four times that (up to 0.9 s for JSON rows); an inspection tool shows far fewer (the
 * admin UI's tree: 20,000 nodes; its JSON editor: values of up to 100,000).
 */
export const MAX_INSPECT_ITEMS = 250_000

/** The errors made by `tooManyItemsError` (of this copy of the package). */
const tooMany = new WeakSet<object>()

/** The error for a value holding more than `max` items, too many to inspect. */
export function tooManyItemsError(serializer: string, max: number): SerializationError {
  const error = new SerializationError(
    `${serializer}: the value holds more than ${max} items, too many to show`,
  )
  tooMany.add(error)
  return error
}

/** Whether `error` is `tooManyItemsError`'s (thrown as is by `Codec.inspect`, not as unreadable). */
export function isTooManyItems(error: unknown): boolean {
  return typeof error === 'object' && error !== null && tooMany.has(error)
}

/** `max` as an item bound: a non-negative integer, or infinity; anything else the default. */
export function itemBound(max: number | undefined): number {
  return max !== undefined &&
    (Number.isSafeInteger(max) || max === Number.POSITIVE_INFINITY) &&
    max >= 0
    ? max
    : MAX_INSPECT_ITEMS
}
