// The `serializer` and `compressor` options, checked when the codec is built: a factory handed in
// uncalled (`serializer: pickleSerializer`), or an object without the methods, was found out
// only by the first value written (`serialize is not a function`, while integers, stored as
// digits, went through) — or never, for a compressor: values were stored uncompressed, and
// values compressed by another writer read as raw bytes.
import { describe } from './_timeout.ts'
import { InvalidArgumentError } from './errors.ts'

/** What one kind of plug-in must have. */
interface PluginKind {
  /** The option that takes it. */
  option: 'serializer' | 'compressor'
  /** Its type's name. */
  type: string
  /** Its two methods. */
  methods: readonly [string, string]
  /** The helper that builds one, checked. */
  define: string
}

const SERIALIZER: PluginKind = {
  option: 'serializer',
  type: 'Serializer',
  methods: ['serialize', 'deserialize'],
  define: 'defineSerializer()',
}

const COMPRESSOR: PluginKind = {
  option: 'compressor',
  type: 'Compressor',
  methods: ['compress', 'decompress'],
  define: 'defineCompressor()',
}

/**
 * Throws `InvalidArgumentError` unless every serializer has a `name` and the functions
 * `serialize` and `deserialize`, and every compressor a `name`, a `minLength` (a number, at
 * least 0) and the functions `compress` and `decompress` — their shape, not their names. A
 * function in their place is a factory not called: the message says to call it.
 */
export function checkPlugins(
  serializers: readonly unknown[],
  compressors: readonly unknown[],
): void {
  for (const serializer of serializers) checkPlugin(serializer, SERIALIZER)
  for (const compressor of compressors) {
    checkPlugin(compressor, COMPRESSOR)
    const { name, minLength } = compressor as { name: string; minLength: unknown }
    if (typeof minLength !== 'number' || !(minLength >= 0)) {
      throw new InvalidArgumentError(
        `compressor '${name}': minLength must be a number of bytes, at least 0, got ${describe(minLength)}`,
      )
    }
  }
}

function checkPlugin(plugin: unknown, kind: PluginKind): void {
  const { option, type, methods, define } = kind
  const needs = `a ${type} object (a name, ${methods[0]}() and ${methods[1]}())`
  const members = plugin as Record<string, unknown> | null
  const missing = methods.find((method) => typeof members?.[method] !== 'function')
  if (typeof plugin === 'function' && missing !== undefined) {
    const factory = /^[\w$]+$/.test(plugin.name) ? plugin.name : undefined
    const call =
      factory === undefined
        ? 'got a function — a factory? Call it, and pass what it returns'
        : `got the function ${factory} — a factory? Call it: ${option}: ${factory}()`
    throw new InvalidArgumentError(`${option} takes ${needs}, ${call}`)
  }
  if ((typeof plugin !== 'object' && typeof plugin !== 'function') || plugin === null) {
    const hint = typeof plugin === 'string' ? nameHint(plugin, type) : ''
    throw new InvalidArgumentError(`${option} takes ${needs}, got ${describe(plugin)}${hint}`)
  }
  const name = (plugin as { name?: unknown }).name
  const named = typeof name === 'string' ? ` '${name.slice(0, 100)}'` : ''
  if (missing !== undefined) {
    throw new InvalidArgumentError(
      `${option}${named} has no ${missing}() method: ${option} takes ${needs}; ${define} builds one`,
    )
  }
  if (typeof name !== 'string') {
    throw new InvalidArgumentError(
      `${option} has no name: ${option} takes ${needs}, whose name error messages give, got ${describe(name)}`,
    )
  }
}

/** The names `createCache()` takes for each option, whose plug-in is `${name}${type}()`. */
const NAMES: Record<string, readonly string[]> = {
  Serializer: ['json', 'msgpack', 'pickle'],
  Compressor: ['zlib', 'gzip', 'brotli', 'lz4', 'zstd', 'lzma'],
}

/** Why a string is refused by `new Cache()`: the names are `createCache()`'s; the object to pass. */
function nameHint(given: string, type: string): string {
  const known = NAMES[type] ?? []
  const name = known.includes(given) ? given : known[0]
  const shown = given.length > 40 ? `${given.slice(0, 40)}…` : given
  return ` (the name '${shown}' is for createCache(); new Cache() takes the object, such as ${name}${type}())`
}
