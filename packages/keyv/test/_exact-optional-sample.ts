// A user's code under `exactOptionalPropertyTypes` (what `tsc --init` turns on), compiled by
// published-types.test.ts with that option. Not run.
import { createCache } from '@cachex/redis'
import { createKeyv } from '../src/index.ts'

const cache = createCache({ location: 'memory://' })
// `namespace: undefined`, unlike no namespace, uses the keys as given (shared with Django);
// Keyv's own options declare `namespace?: string`, which refused it (TS2379).
export const shared = createKeyv(cache, { namespace: undefined })
declare const namespace: string | undefined
export const forwarded = createKeyv(cache, { namespace })
