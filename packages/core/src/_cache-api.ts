import type { CacheLike } from './cache-like.ts'
import type { HashCommands } from './commands/hashes.ts'
import type { KeyHelperCommands } from './commands/key-helpers.ts'
import type { ListCommands } from './commands/lists.ts'
import type { SemaphoreCommands } from './commands/semaphore.ts'
import type { SetCommands } from './commands/sets.ts'
import type { SortedSetCommands } from './commands/sorted-sets.ts'
import type { StreamGroupCommands } from './commands/stream-groups.ts'
import type { StreamCommands } from './commands/streams.ts'

/**
 * Every method of a `Cache`: the standard and extended API (`CacheLike`) and the command
 * families attached to the class (`cache.ts`). A type of its own so that what maps over the
 * methods (`Pipeline`) does not need the class. A new family is one file under `commands/`, one
 * name here and one `attachCommands` line in `cache.ts`.
 */
export interface CacheApi<out IgnoreErrors extends boolean = boolean>
  extends CacheLike<IgnoreErrors>,
    HashCommands<IgnoreErrors>,
    SortedSetCommands<IgnoreErrors>,
    ListCommands<IgnoreErrors>,
    SetCommands,
    StreamCommands,
    StreamGroupCommands,
    SemaphoreCommands,
    KeyHelperCommands {}
