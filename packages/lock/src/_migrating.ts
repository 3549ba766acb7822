// A lock or a permit whose Redis Cluster slot is being migrated: its script may be refused whole.
import { ResponseError } from '@cachex/core'
import { TRYAGAIN_REPLY } from '@cachex/core/internal'

/**
 * Whether `error` is a cluster's refusal to run a script at all because its slot is being
 * migrated: `TRYAGAIN` (a script naming several keys — a lock's key and its fencing counter — of
 * which the migration has moved some, or that do not exist yet on either node), or an `ASK`
 * redirection the connection gave up following. Nothing ran: the lock or permit was not taken,
 * as if another holder had it, until the migration of the slot's keys completes.
 */
export function slotMigrating(error: unknown): boolean {
  return (
    error instanceof ResponseError &&
    (error.message.startsWith(TRYAGAIN_REPLY) || error.message.startsWith('ASK '))
  )
}
