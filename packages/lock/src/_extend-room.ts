// Whether `lock.extend(seconds)` leaves the lock an expiry the cache can hold: read only near the
// farthest one (see `Lock.extend`), as a command of its own before the extension's script.
import { type Connection, InvalidArgumentError } from '@cachex/core'
import { bounded, checkTimeoutMs } from '@cachex/core/internal'

/**
 * Throws `InvalidArgumentError` when adding `ms` to the remaining time of the lock `name` would
 * pass the farthest expiry the cache allows: an expiry Redis holds, but a time to live JavaScript
 * no longer reads exactly. The remaining time is read first, as its own command: the script,
 * redis-py's, adds without a bound, and is kept as it is (the memory:// backend runs it natively,
 * known by its SHA1). Another extension of the same token between the two could still pass the
 * bound; nothing else can. A key gone or without an expiry is left to the script, which refuses
 * to extend it.
 */
export async function checkRoomFor(
  connection: Connection,
  name: string,
  seconds: number,
  ms: number,
): Promise<void> {
  const left = await connection.command(['PTTL', name], { key: name })
  if (typeof left !== 'number' || left < 0) return
  try {
    checkTimeoutMs(left + ms, 'extend', `${left + ms} ms`)
  } catch {
    throw new InvalidArgumentError(
      `lock.extend(${seconds}) would leave the lock '${bounded(name)}' ${left + ms} ms to live ` +
        `(${left} ms left + ${ms} ms), past the farthest expiry Redis and JavaScript both ` +
        'hold to the millisecond (about 285,000 years from now): the lock is unchanged; ' +
        'extend it by less, or pass { replaceTtl: true }',
    )
  }
}
