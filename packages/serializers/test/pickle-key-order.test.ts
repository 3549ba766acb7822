// A Python dict keeps its insertion order; a JS object lists array-index keys ('0', '10', …)
// first. A dict read into a plain object and written back must keep Python's order, so that an
// untouched value written back is byte for byte what Python wrote. Reference bytes are made at
// test time by CPython's pickle.dumps, as in pickle.test.ts.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { pickleSerializer } from '../src/pickle.ts'

const PYTHON =
  process.env.CACHEX_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3')

const GENERATE = `
import sys, json, pickle
class AsFrozenset:
    def __init__(self, items): self.items = items
    def __reduce__(self): return (frozenset, (self.items,))
cases = json.load(sys.stdin)
env = {'AsFrozenset': AsFrozenset}
print(json.dumps({name: [pickle.dumps(eval(expr, env), p).hex() for p in range(6)]
                  for name, expr in cases.items()}))
`

/** `pickle.dumps(eval(expr), p).hex()` for p = 0..5, by case name. */
function python(cases: Record<string, string>): Record<string, string[]> {
  const result = spawnSync(PYTHON, ['-c', GENERATE], {
    input: JSON.stringify(cases),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(
      `these tests need CPython 3 (${PYTHON}) to generate reference vectors: ` +
        `${result.error?.message ?? result.stderr}. Install python3 (apt-get install python3).`,
    )
  }
  return JSON.parse(result.stdout)
}

const CART = "{'z': 0, '10': 1, '2': 3}"
const V = python({
  cart: CART,
  session: "{'_auth_user_id': '1', 'cart': {'42': 1, '7': 2}, 'tz': 'Europe/Paris'}",
  firstIndex: "{'10': 'a', '2': 'b', 'x': None, '0': 'c'}",
  descending: '{str(i): i for i in reversed(range(2500))}',
  shared: "[{'b': 1, '1': 2}] * 2",
  added: "{'z': 0, '10': 1, '2': 3, '5': 4, 'a': 5}",
  deleted: "{'z': 0, '2': 3}",
  swapped: "{'z': 0, '2': 3, '1': 7}",
  changed: "{'z': 0, '10': 9, '2': 3}",
  jsOrder: "{'2': 3, '10': 1, 'z': 0}",
  frozen: `AsFrozenset(${CART})`,
})

const bytes = (name: string, protocol: number) => Buffer.from(V[name]?.[protocol] as string, 'hex')

describe('pickle: dict key order', () => {
  for (const protocol of [2, 3, 4, 5]) {
    const s = pickleSerializer({ pickleVersion: protocol })

    it(`protocol ${protocol}: a dict with digit-string keys, read and written back, is the same bytes`, () => {
      for (const name of ['cart', 'session', 'firstIndex', 'descending', 'shared']) {
        const data = bytes(name, protocol)
        expect(s.serialize(s.deserialize(data)).toString('hex'), name).toBe(data.toString('hex'))
      }
    })

    it(`protocol ${protocol}: a read dict changed by JS: added keys last, deleted ones gone, changed ones in place`, () => {
      const added = s.deserialize(bytes('cart', protocol)) as Record<string, unknown>
      added['5'] = 4
      added.a = 5
      expect(s.serialize(added).toString('hex')).toBe(bytes('added', protocol).toString('hex'))

      const deleted = s.deserialize(bytes('cart', protocol)) as Record<string, unknown>
      delete deleted['10']
      expect(s.serialize(deleted).toString('hex')).toBe(bytes('deleted', protocol).toString('hex'))

      // As many keys as read, but not the same ones.
      const swapped = s.deserialize(bytes('cart', protocol)) as Record<string, unknown>
      delete swapped['10']
      swapped['1'] = 7
      expect(s.serialize(swapped).toString('hex')).toBe(bytes('swapped', protocol).toString('hex'))

      const changed = s.deserialize(bytes('cart', protocol)) as Record<string, unknown>
      changed['10'] = 9
      expect(s.serialize(changed).toString('hex')).toBe(bytes('changed', protocol).toString('hex'))
    })
  }

  it('reading keeps plain objects, from every protocol 0–5', () => {
    const s = pickleSerializer()
    for (let protocol = 0; protocol <= 5; protocol++) {
      const value = s.deserialize(bytes('cart', protocol))
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
      expect(value).toEqual({ z: 0, '10': 1, '2': 3 })
      // Written with protocol 4 whatever it was read from: Python's order.
      expect(s.serialize(value).toString('hex')).toBe(bytes('cart', 4).toString('hex'))
    }
  })

  it('an object made in JS (never read) is written in its JS key order, as before', () => {
    const s = pickleSerializer()
    const made = { z: 0, '10': 1, '2': 3 }
    expect(s.serialize(made).toString('hex')).toBe(bytes('jsOrder', 4).toString('hex'))
    // A copy of a read object is a new object: JS order too.
    const read = s.deserialize(bytes('cart', 4)) as object
    expect(s.serialize({ ...read }).toString('hex')).toBe(bytes('jsOrder', 4).toString('hex'))
  })

  it('a set built from a dict takes its keys in Python order', () => {
    const s = pickleSerializer()
    expect([...(s.deserialize(bytes('frozen', 4)) as Set<string>)]).toEqual(['z', '10', '2'])
  })
})
