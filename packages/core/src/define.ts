// `defineCompressor` and `defineSerializer`: a plug-in in a few lines, checked once when it is
// built rather than failing on the first value.

import { describeGiven } from './_args.ts'
import { own } from './_own.ts'
import { utf8Text } from './_utf8.ts'
import { decompressionLimitError, InvalidArgumentError } from './errors.ts'
import type { Compressor, Serializer } from './types.ts'

/** What `defineCompressor` takes: a `Compressor` whose `minLength` may be left out. */
export interface CompressorDefinition {
  /** A short name, used in error messages (and by the umbrella's `compressor: '…'` names for built-ins). */
  name: string
  /**
   * Values of this many bytes or fewer are stored uncompressed (django-redis's `min_length`).
   * @default 15
   */
  minLength?: number
  /** Compresses bytes. */
  compress(data: Buffer): Buffer
  /**
   * Decompresses bytes written by `compress`. With `maxOutputLength` (the cache's
   * `maxValueSize`, or what a many-value read's budget has left), stop as soon as the output would exceed it and throw
   * `decompressionLimitError(name, maxOutputLength)`: a 2 KB value can expand to gigabytes.
   * `node:zlib`'s `maxOutputLength` option does this (its `ERR_BUFFER_TOO_LARGE` is turned into
   * that error); a longer output is refused after the call all the same, but by then it was
   * produced. Throw any other error when `data` is not this format: the cache then tries its
   * next compressor, then reads the bytes raw.
   */
  decompress(data: Buffer, maxOutputLength?: number): Buffer
  /**
   * Magic bytes every compressed value starts with: when a value does not start with them,
   * `decompress` is not tried. Give this or `matches`, not both.
   */
  magic?: Uint8Array
  /**
   * A quick test that `data` may be this compressor's output; when it answers `false`,
   * `decompress` is not tried. Give this or `magic`, not both.
   */
  matches?(data: Buffer): boolean
}

/**
 * Builds a `Compressor` from its parts, checking them: a `name`, `compress`, `decompress` (which
 * keeps to `maxOutputLength`), an optional `minLength` (default 15) and optional `magic` bytes
 * or `matches` test. Throws `InvalidArgumentError` on a missing or ill-typed part. The result
 * goes wherever a compressor does: `createCache({ compressor: myCompressor })`. The functions
 * are called as plain functions (without `this`).
 *
 * ```ts
 * import { brotliCompressSync, brotliDecompressSync } from 'node:zlib'
 * import { defineCompressor } from '@cachex/core'
 *
 * const fastBrotli = defineCompressor({
 *   name: 'brotli-4',
 *   minLength: 100,
 *   compress: (data) => brotliCompressSync(data, { params: { 1: 4 } }),
 *   decompress: (data, maxOutputLength) => brotliDecompressSync(data, { maxOutputLength }),
 * })
 * ```
 */
export function defineCompressor(definition: CompressorDefinition): Compressor {
  if (definition === null || typeof definition !== 'object') {
    throw new InvalidArgumentError(
      'defineCompressor() takes an object: { name, compress, decompress }',
    )
  }
  const { name, compress, decompress, matches } = definition
  checkName('defineCompressor', name)
  // The settings (not the functions, which a class may hold) are read from own properties only.
  const magic = own(definition, 'magic')
  const minLength = own(definition, 'minLength') ?? 15
  if (!Number.isInteger(minLength) || minLength < 0) {
    throw new InvalidArgumentError(
      `${name}: minLength must be a non-negative integer, got ${describeGiven(minLength)}`,
    )
  }
  checkFunction(name, 'compress', compress)
  checkFunction(name, 'decompress', decompress)
  if (matches !== undefined) checkFunction(name, 'matches', matches)
  if (magic !== undefined) {
    if (!(magic instanceof Uint8Array) || magic.length === 0) {
      throw new InvalidArgumentError(`${name}: magic must be a non-empty Buffer or Uint8Array`)
    }
    if (matches !== undefined) {
      throw new InvalidArgumentError(`${name}: give magic or matches, not both`)
    }
  }
  const bounded = (data: Buffer, maxOutputLength?: number): Buffer => {
    let out: Buffer
    try {
      out = decompress(data, maxOutputLength)
    } catch (error) {
      // node:zlib's own answer to its maxOutputLength option.
      if (maxOutputLength !== undefined && isBufferTooLarge(error)) {
        throw decompressionLimitError(name, maxOutputLength, { cause: error })
      }
      throw error
    }
    // The contract, kept even by a decompress that ignores maxOutputLength.
    if (maxOutputLength !== undefined && out.length > maxOutputLength) {
      throw decompressionLimitError(name, maxOutputLength)
    }
    return out
  }
  const test = magic === undefined ? matches : startsWith(Buffer.from(magic))
  return test === undefined
    ? { name, minLength, compress, decompress: bounded }
    : { name, minLength, compress, decompress: bounded, matches: test }
}

/** What `defineSerializer` takes: a `Serializer`, whose `deserialize` a text format may leave out. */
export interface SerializerDefinition {
  /** A short name, used in error messages (and by the umbrella's `serializer: '…'` names for built-ins). */
  name: string
  /** Encodes a value; returning a string means its UTF-8 bytes. Throw on what the format cannot carry. */
  serialize(value: unknown): Buffer | string
  /**
   * Decodes bytes written by `serialize`; throw on bad input. May be left out when
   * `deserializeText` is given: the bytes are then read as UTF-8 text.
   */
  deserialize?(data: Buffer): unknown
  /**
   * Decodes a value already decoded as UTF-8 text. A text format that has it lets a cache
   * without compressors read replies as strings, sparing a Buffer per value.
   */
  deserializeText?(text: string): unknown
}

/**
 * Builds a `Serializer` from its parts, checking them: a `name`, `serialize`, and `deserialize`
 * or `deserializeText` (or both). Throws `InvalidArgumentError` on a missing or ill-typed part.
 * What the functions throw, the cache wraps in a `SerializationError`. The functions are called
 * as plain functions (without `this`).
 *
 * ```ts
 * import { defineSerializer } from '@cachex/core'
 *
 * const upper = defineSerializer({
 *   name: 'upper',
 *   serialize: (value) => String(value).toUpperCase(),
 *   deserializeText: (text) => text,
 * })
 * ```
 */
export function defineSerializer(definition: SerializerDefinition): Serializer {
  if (definition === null || typeof definition !== 'object') {
    throw new InvalidArgumentError(
      'defineSerializer() takes an object: { name, serialize, deserialize }',
    )
  }
  const { name, serialize, deserialize, deserializeText } = definition
  checkName('defineSerializer', name)
  checkFunction(name, 'serialize', serialize)
  if (deserialize !== undefined) checkFunction(name, 'deserialize', deserialize)
  if (deserializeText !== undefined) checkFunction(name, 'deserializeText', deserializeText)
  if (deserialize === undefined) {
    if (deserializeText === undefined) {
      throw new InvalidArgumentError(`${name}: give deserialize, deserializeText, or both`)
    }
    return {
      name,
      serialize,
      deserialize: (data) => deserializeText(utf8Text(data)),
      deserializeText,
    }
  }
  return deserializeText === undefined
    ? { name, serialize, deserialize }
    : { name, serialize, deserialize, deserializeText }
}

function checkName(caller: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '') {
    throw new InvalidArgumentError(`${caller}(): name must be a non-empty string`)
  }
}

function checkFunction(name: string, member: string, value: unknown): void {
  if (typeof value !== 'function') {
    throw new InvalidArgumentError(`${name}: ${member} must be a function, got ${typeof value}`)
  }
}

/** A test for values longer than `magic` that start with it (no copy: it runs on every read). */
function isBufferTooLarge(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE'
}

function startsWith(magic: Buffer): (data: Buffer) => boolean {
  const n = magic.length
  return (data) => {
    if (data.length <= n) return false
    for (let i = 0; i < n; i++) if (data[i] !== magic[i]) return false
    return true
  }
}
