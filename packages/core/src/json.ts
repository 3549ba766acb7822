import type { Serializer } from './types.ts'

/**
 * JSON: the zero-dependency default. Writes UTF-8 JSON; reads what Python's `json.dumps` and
 * Django's `DjangoJSONEncoder` write. Values JSON cannot represent — functions, symbols,
 * `undefined`, circular structures, `bigint` inside objects — are refused rather than silently
 * changed.
 */
export function jsonSerializer(): Serializer {
  return {
    name: 'json',
    serialize(value) {
      const text = JSON.stringify(value)
      // JSON.stringify returns undefined for undefined, functions and symbols at the top level.
      if (text === undefined) throw new TypeError(`a ${typeof value} cannot be stored as JSON`)
      return text
    },
    deserialize(data) {
      return JSON.parse(data.toString('utf8'))
    },
  }
}
