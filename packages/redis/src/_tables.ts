// The umbrella's registries: one table per plug-in kind, name → factory. `createCache` reads
// them, and the name types (`SerializerName`, `CompressorName`, `ClientName`) are their keys: a
// new built-in is one line here (`scripts/check-package-metadata.ts` checks that every factory of
// @cachex/serializers and @cachex/compressors has its line).
import {
  brotliCompressor,
  gzipCompressor,
  lz4Compressor,
  lzmaCompressor,
  zlibCompressor,
  zstdCompressor,
} from '@cachex/compressors'
import { cluster, replica, sentinel, standalone } from '@cachex/connections'
import { parseLocation } from '@cachex/connections/internal'
import {
  type Compressor,
  type Connection,
  type ConnectionFactory,
  type ConnectionOptions,
  InvalidArgumentError,
  jsonSerializer,
  type Serializer,
} from '@cachex/core'
import { describeGiven } from '@cachex/core/internal'
import { msgpackSerializer, type PickleClasses, pickleSerializer } from '@cachex/serializers'

/** What the serializers of the table read from `createCache`'s options. */
export interface SerializerSettings {
  /** `pickleVersion` of `createCache`. */
  pickleVersion?: number
  /** `pickleClasses` of `createCache`. */
  pickleClasses?: PickleClasses
}

/** Serializers by name (`serializer: 'json'`); each gets the cache's options. */
export const SERIALIZERS = {
  json: () => jsonSerializer(),
  msgpack: () => msgpackSerializer(),
  pickle: (options) =>
    pickleSerializer({ pickleVersion: options.pickleVersion, classes: options.pickleClasses }),
} satisfies Record<string, (options: SerializerSettings) => Serializer>

/** Compressors by name (`compressor: 'zlib'`); `'none'` is not one of them. */
export const COMPRESSORS = {
  zlib: () => zlibCompressor(),
  gzip: () => gzipCompressor(),
  brotli: () => brotliCompressor(),
  lz4: () => lz4Compressor(),
  zstd: () => zstdCompressor(),
  lzma: () => lzmaCompressor(),
} satisfies Record<string, () => Compressor>

/** Topologies by name (`client: 'sentinel'`, django-redis's `CLIENT_CLASS`). */
export const CLIENTS = {
  default: defaultClient,
  sentinel,
  cluster,
} satisfies Record<string, ConnectionFactory>

/**
 * The factory named `name` in `table` (own keys only), else an `InvalidArgumentError` that lists
 * the names (after `extra` ones such as `'none'`) and `alternative`.
 */
export function lookup<Table extends Record<string, unknown>>(
  table: Table,
  kind: string,
  name: string,
  alternative: string,
  extra: readonly string[] = [],
): Table[keyof Table] {
  // A name that is no string is no key (a null-prototype object cannot even be made one).
  if (typeof name === 'string' && Object.hasOwn(table, name)) {
    return table[name] as Table[keyof Table]
  }
  const names = [...extra, ...Object.keys(table)].join(', ')
  throw new InvalidArgumentError(
    `unknown ${kind} ${typeof name === 'string' ? `'${name}'` : describeGiven(name)}: use ${names} or ${alternative}`,
  )
}

/**
 * `client: 'default'` (django-redis's `DefaultClient`): one server, or, when `location` lists
 * more than one URL (a list or a comma-separated string), the first as the primary and the rest
 * as read replicas.
 */
function defaultClient(options: ConnectionOptions): Connection {
  return (parseLocation(options.location)?.length ?? 0) > 1 ? replica(options) : standalone(options)
}
