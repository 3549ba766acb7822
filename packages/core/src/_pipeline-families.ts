// The family methods a pipeline queues (`_pipeline.ts`), and how one that resolves its value
// without a command tells the pipeline so as it is queued (`answered`).

/**
 * The family methods a pipeline queues by running them with the recorder set: each calls
 * `context.run` synchronously, once, before any `await` (pipeline.test.ts checks each one).
 */
export const FAMILY_METHODS = [
  // hashes
  'hset',
  'hdel',
  'hexists',
  'hget',
  'hgetall',
  'hincrby',
  'hincrbyfloat',
  'hlen',
  'hmget',
  'hmset',
  'hsetnx',
  'hvals',
  'hkeys',
  // sorted sets
  'zadd',
  'zcard',
  'zcount',
  'zincrby',
  'zrange',
  'zrevrange',
  'zrangebyscore',
  'zrevrangebyscore',
  'zrank',
  'zrevrank',
  'zrem',
  'zremrangebyrank',
  'zscore',
  'zmscore',
  'zpopmin',
  'zpopmax',
  // lists
  'llen',
  'lpush',
  'rpush',
  'lpop',
  'rpop',
  'lindex',
  'lrange',
  'lset',
  'ltrim',
  'lpos',
  'lmove',
  'linsert',
  'lrem',
  // sets
  'sadd',
  'srem',
  'smembers',
  'sismember',
  'smismember',
  'scard',
  'spop',
  'srandmember',
  'smove',
  'sdiff',
  'sinter',
  'sunion',
  'sdiffstore',
  'sinterstore',
  'sunionstore',
  // streams (without `block`)
  'xadd',
  'xlen',
  'xrange',
  'xrevrange',
  'xread',
  'xtrim',
  'xdel',
  'xgroupCreate',
  'xgroupDestroy',
  'xreadgroup',
  'xack',
  'xpending',
  'xclaim',
  'xautoclaim',
  'xinfoStream',
  // keys
  'type',
] as const

/** What a pipeline learns of the call it is queueing (`CachePipeline.queue`). */
export interface CallNote {
  /** The cache the call is made on. */
  readonly cache: object
  /** It failed before it queued a command (the standard entries' `refuse`, a throw). */
  refused: boolean
  /** It resolved its value without a command (`answered`). */
  answered: boolean
}

/** The call a pipeline is queueing now (synchronously), if any. */
let queueing: CallNote | undefined

/** Runs `invoke`, the call a pipeline queues, with `note` for `answered` to mark. */
export function noting<T>(note: CallNote, invoke: () => T): T {
  const outer = queueing
  queueing = note
  try {
    return invoke()
  } finally {
    queueing = outer
  }
}

/**
 * `value`, returned by a family method of `cache` that resolves without a command once its
 * arguments are checked (`hmget` of no field, `xack` of no ID). A pipeline queueing the call
 * learns that it resolved: a transaction waits for a call that queued nothing and said nothing,
 * since an `async` method's error comes only with its promise, a tick later, and a transaction
 * sent a tick late is overtaken by the calls made after its `exec()` (docs/pipelines.md).
 */
export function answered<T>(cache: object, value: T): T {
  if (queueing !== undefined && queueing.cache === cache) queueing.answered = true
  return value
}
