/** An argument of a Redis command: a string (sent as UTF-8) or raw bytes. */
export type RedisArgument = string | Buffer

/**
 * Turns values into bytes and back. Implementations are synchronous and throw on bad input;
 * the `Cache` wraps what they throw in a `SerializationError`.
 */
export interface Serializer {
  /** A short name, used in error messages and by the umbrella's `serializer: 'json'` lookup. */
  readonly name: string
  /** Encodes a value. Returning a string means its UTF-8 bytes. */
  serialize(value: unknown): Buffer | string
  /** Decodes bytes written by `serialize` (or by the Python serializer it is compatible with). */
  deserialize(data: Buffer): unknown
  /**
   * Optional: decodes a value the connection already decoded as UTF-8 text. A text format (JSON)
   * that has it lets a cache without compressors read replies as strings, which spares a Buffer
   * per value.
   */
  deserializeText?(text: string): unknown
}

/**
 * Compresses serialized bytes. A value is compressed only when its serialized length is strictly
 * greater than `minLength`, as django-redis does.
 */
export interface Compressor {
  /** A short name, used in error messages and by the umbrella's `compressor: 'zlib'` lookup. */
  readonly name: string
  /** Values of this many bytes or fewer are stored uncompressed. */
  readonly minLength: number
  /** Compresses bytes. */
  compress(data: Buffer): Buffer
  /**
   * Decompresses bytes written by `compress` (or by the Python compressor it is compatible with).
   *
   * When `maxOutputLength` is given (the cache's `maxValueSize`, or less: what the per-call
   * budget of a many-value read has left), stops as soon as the output would
   * exceed it — without first producing the whole output — and throws the `CompressionError` of
   * `decompressionLimitError(name, maxOutputLength)`: a 2 KB value can expand to gigabytes.
   *
   * A `CompressionError` means "this format, but refused": the codec surfaces it. Any other error
   * means `data` is not this format (or not compressed at all), and the codec tries the next
   * compressor, then reads the bytes raw.
   */
  decompress(data: Buffer, maxOutputLength?: number): Buffer
  /**
   * Optional quick test (magic bytes) that `data` may be this compressor's output. When present
   * and it answers `false`, `decompress` is not tried.
   */
  matches?(data: Buffer): boolean
}

/** Where a command should run: which key it touches, and whether it only reads. */
export interface CommandRoute {
  /** The first Redis key the command touches; a cluster picks the node by its slot. */
  key?: RedisArgument
  /** `true` when the command only reads; a topology with replicas may send it to one. */
  readonly?: boolean
  /**
   * `true` for a command that only reads but must run on the primary (`readonly` unset): a read
   * of a key this process wrote a moment ago, whose copy a replica may not have yet. A connection
   * that holds writes back while the primary is failed over (Sentinel) runs it as it runs a read
   * on the primary — on the old one until the switch, which holds the newest copy, and while it
   * is down, waiting for the new one — not as a write, refused meanwhile. Any other connection
   * may run it as a command without `readonly`: on the primary.
   */
  primaryRead?: boolean
  /**
   * `true` to receive bulk strings as UTF-8 strings instead of Buffers: the cache asks for it
   * when its codec reads text. A connection may ignore it and reply with Buffers.
   */
  text?: boolean
  /**
   * Milliseconds the command may wait on the server for data before it replies: a blocking
   * command (`XREAD BLOCK`, `BLPOP`, `BLMOVE`…). A connection bounds the call by `socketTimeout`
   * plus this, and runs it where it holds up no other call (a dedicated client of the node), so
   * a long block neither times out nor stalls the commands sent after it. Positive and finite.
   */
  blockMs?: number
  /**
   * `true` to run a multi-key command whole, as one command on one node. A connection that
   * splits multi-key commands by hash slot (a cluster's `MGET`, `MSET`, `DEL`…) rejects it with
   * `CrossSlotError` instead when its keys span slots. Topologies that do not split ignore it.
   */
  atomic?: boolean
  /**
   * `true` to receive integer replies as their decimal digits (a string such as
   * `'9007199254740993'`), exact beyond ±(2^53 - 1), where node-redis would read them as a
   * `number` and round. Bulk strings then come as Buffers. The cache asks for it where a result
   * may be that large (`hincrby`); a connection may ignore it for a command it splits (a
   * cluster's multi-key `DEL`), whose integer replies it adds up.
   */
  digits?: boolean
  /**
   * `false` to have a cluster's `TRYAGAIN` (a multi-key command or script whose slot is half
   * migrated) as the call's error at once, where a connection would otherwise send it again
   * for most of `socketTimeout`: for a caller that has its own way to wait, such as a lock's
   * `acquire()`, which counts it as "not taken" and keeps to its own `blockingTimeout`.
   * Topologies without slots ignore it.
   */
  tryAgain?: boolean
  /**
   * How many calls of the cache the command answers: several when it gathers them (the `get`s of
   * one tick as one `MGET`, see `coalesceReads`); 1 when absent. A connection that caps what awaits
   * replies (`maxInFlightBytes`) counts each of those calls as what it holds awaiting the reply,
   * not only the command's bytes. A whole number; a connection may ignore it.
   */
  callers?: number
}

/**
 * One interface over every Redis topology (standalone, replicas, sentinel, cluster). A
 * `Connection` knows nothing about serializers or key prefixes: it routes raw commands, bounds
 * each call so that nothing hangs, and rejects only with `CachexError` subclasses
 * (`ConnectionError`, `TimeoutError`, `ResponseError`).
 *
 * Replies are raw RESP values: bulk strings as `Buffer` (as UTF-8 strings for a `text` route),
 * integers as `number`, arrays as arrays, maps as flat `[key, value, …]` arrays, nil as `null`.
 */
export interface Connection {
  /**
   * `true` when the connection routes commands by hash slot (Redis Cluster): a multi-key command
   * whose keys span slots is split by slot or, sent whole (`route.atomic`, a script), refused with
   * `CrossSlotError` before anything is sent. The cache's coalesced writes read it to send the
   * keys of several slots apart at once: learned from the refusal instead, the keys would go a
   * round trip late, after the commands called behind them.
   */
  readonly routesBySlot?: boolean | undefined
  /**
   * A number that changes whenever a server this connection sends to may have lost its Lua
   * scripts or been replaced: a (re)connection, a failover, a change of a cluster's slot map.
   * `runScript` sends `EVALSHA` only where a script ran since it last changed (`EVAL` otherwise),
   * so that a `NOSCRIPT` retry never runs a script after the commands sent behind it. Without it,
   * only a `NOSCRIPT` reply tells that a server lost its scripts.
   */
  readonly generation?: number | undefined
  /** Runs one command and resolves to its raw reply. */
  command(args: RedisArgument[], route?: CommandRoute): Promise<unknown>
  /**
   * Runs several commands in one round trip (a pipeline, not a transaction) and resolves to one
   * entry per command: its reply, or the `CachexError` it failed with. Rejects only when the
   * whole batch could not be sent.
   */
  batch(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]>
  /**
   * Optional: runs the commands as one `MULTI … EXEC` transaction on the node of `route.key` and
   * resolves to one entry per command: its reply, or the `ResponseError` it failed with at `EXEC`
   * (Redis still runs the others). Rejects when the transaction ran nothing: a command Redis
   * refused while queueing (`EXECABORT`), a connection error, or, on a cluster, keys in more than
   * one hash slot (`CrossSlotError`, before anything is sent). `cache.transaction()` needs it.
   */
  transaction?(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]>
  /**
   * Walks every key matching a Redis glob `pattern` with `SCAN … COUNT count`, on every primary,
   * yielding the keys of each reply as one batch, so that memory stays flat. A key is a string
   * when its bytes are UTF-8, and its exact bytes (a `Buffer`) when they are not: decoded, such a
   * name would become another key's (invalid bytes read as U+FFFD), which a delete would hit.
   */
  scan(pattern: string, count: number): AsyncIterable<Array<string | Buffer>>
  /** Removes every key of the selected database (`FLUSHDB` on every primary). */
  flush(): Promise<void>
  /**
   * The node-redis client (or cluster, sentinel, pool) behind this connection, connected: the
   * primary for `write: true`, a replica for reads where there are replicas.
   */
  client(options?: { write?: boolean }): Promise<unknown>
  /** Closes what this connection opened. Pending commands settle; later ones reject with `ClosedError`. */
  close(): Promise<void>
  /**
   * Opens a dedicated connection with server-assisted client-side caching (`CLIENT TRACKING on
   * BCAST`, RESP3 push messages) for the keys starting with one of `prefixes` (every key when
   * the list is empty), and reports to `listener`: `up` once tracking is on, `invalidate` for
   * every key a client wrote or that expired or was evicted (`null`: every key, after a
   * `FLUSHDB`/`FLUSHALL`), `down` when the tracking connection was lost (messages may have been
   * lost with it; it reconnects by itself and reports `up` again). A topology of several nodes
   * tracks every node reads may go to and is up only while all are; a change of its nodes (a
   * failover, a slot move) reports `down` then `up`. Without it the local tier is refused.
   */
  track?(prefixes: readonly string[], listener: TrackingListener): Tracking
}

/** What a tracking connection reports (see `Connection.track`). */
export interface TrackingListener {
  /** Tracking is on: from now on every write to a tracked key is reported. */
  up(): void
  /** Tracking was lost: writes may go unreported until the next `up`. */
  down(): void
  /**
   * These keys were written, expired or evicted; `null`: every key (a flush). `replica`: reported
   * by a replica's tracking connection, for a write it applied from its primary — a write the
   * primary (tracked too) reported first, or one older than a value this process wrote since.
   */
  invalidate(keys: readonly string[] | null, replica?: boolean): void
}

/** A running tracking connection (see `Connection.track`). */
export interface Tracking {
  /** Closes the tracking connection; no report follows. */
  close(): Promise<void>
}

/** What a `ConnectionFactory` receives: the connection part of a cache's options. */
export interface ConnectionOptions {
  /**
   * Where Redis is: a URL (`redis://`, `rediss://`, `unix://`), a list of URLs (the first is the
   * primary, the rest read replicas), or an existing node-redis client, pool, sentinel or cluster.
   */
  // `| undefined`: each topology's options re-declare it as `ConnectionOptions['location']`, which
  // holds `undefined`; without it they do not extend this under `exactOptionalPropertyTypes`.
  location?: string | readonly string[] | object | undefined
  /**
   * Password for every node, used where the URL has none; `null` is none, as a JSON config's
   * `"password": null`.
   */
  password?: string | null | undefined
  /**
   * Seconds the first call waits for a connection to be established. Once a connection attempt
   * failed, calls no longer wait: they reject with a `ConnectionError` at once while the
   * connection reconnects in the background.
   * @default 5
   */
  socketConnectTimeout?: number | undefined
  /**
   * Seconds one call may take before it rejects with a `TimeoutError`; `null` for no bound. A
   * timeout also resets the connection (the commands still queued on it reject at once), and a
   * write that timed out has an unknown outcome: the server may or may not have applied it.
   * @default 5
   */
  socketTimeout?: number | null | undefined
  /**
   * Most bytes of commands (their arguments, plus 64 bytes each) that may await their replies on
   * one connection; a command that would go past it rejects at once with a `BackpressureError`
   * (a `ConnectionError`), unsent. It bounds the memory a stalled server can make cachex hold
   * (without it, 5 s of writes pile up before the first timeout). A single command larger than
   * the cap still runs when nothing else is in flight (at most 1 KiB of small commands; a blocking
   * call waiting on a client of its own does not count). `null` for no cap.
   * @default 33554432 (32 MiB)
   */
  maxInFlightBytes?: number | null | undefined
  /** Connection-pool settings, passed to the topology (node-redis `createClientPool` options for standalone). */
  connectionPool?: Record<string, unknown> | undefined
  /** Closes a client that the user handed in as `location` when the cache is closed. */
  closeConnection?: boolean | undefined
  /** Extra node-redis client options, merged into every client the factory creates. */
  clientOptions?: Record<string, unknown> | undefined
}

/** Builds a `Connection` from options; `@cachex/connections` has `standalone`, and later `replica`, `sentinel`, `cluster`. */
export type ConnectionFactory = (options: ConnectionOptions) => Connection

/** Where cachex sends messages: errors `ignoreExceptions` swallowed, configuration warnings. `console` fits. */
export interface Logger {
  /** Logs one ignored error. */
  error(message: string, ...details: unknown[]): void
  /** Logs a warning about the configuration (overlapping prefixes); `error` when absent. */
  warn?(message: string, ...details: unknown[]): void
}

/** Builds a Redis key from the user's key, the cache's prefix and the version. */
export type KeyFunction = (key: string, keyPrefix: string, version: number) => string

/** Turns a Redis key back into the user's key, for `keys()` and `iterKeys()`. */
export type ReverseKeyFunction = (redisKey: string, keyPrefix: string, version: number) => string
