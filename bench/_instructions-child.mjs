// Run by bench/instructions.ts under callgrind: one side (raw node-redis or cachex) of one case,
// `count` calls kept 100 in flight after 1,000 calls of warm-up, then exit. Plain JavaScript over
// the built packages, so that nothing but the case runs under valgrind. argv: url, case, side,
// count. The cases are those of bench/run.ts (the same values, keys and calls).
import { createCache } from '@cachex/redis'
import { createClient } from '@redis/client'

const [url, name, side, countText] = process.argv.slice(2)
const raw = createClient({ url, commandOptions: { timeout: 0 } })
raw.on('error', () => {})
await raw.connect()
// socketTimeout as long as valgrind may need on a busy machine (a call runs about 50 times
// slower under it): the same bound-tracking path as the default 5 s, without timing out.
const cache = createCache({ location: url, keyPrefix: 'bench', timeout: null, socketTimeout: 120 })
const value = {
  id: 12345,
  name: 'cachex benchmark value',
  tags: ['a', 'b', 'c'],
  ok: true,
  score: 9.5,
}
const text = JSON.stringify(value)
const keys = Array.from({ length: 100 }, (_, i) => `k${i}`)
const entries = Object.fromEntries(keys.map((k) => [k, value]))
const rawKeys = keys.map((k) => `bench:raw:${k}`)
const rotations = keys.map((_, j) => keys.map((_, i) => keys[(i + j) % 100]))
const rawRotations = rotations.map((list) => list.map((k) => `bench:raw:${k}`))
const parseAll = (r) => r.map((x) => (x === null ? null : JSON.parse(x)))
let next = 0

/** Each case: what raw node-redis does, what cachex does, and whether it reads the keys. */
const cases = {
  'get, 100 in flight': {
    raw: () => raw.get('bench:raw:k0').then((r) => JSON.parse(r)),
    cachex: () => cache.get('k0'),
  },
  'set, 100 in flight': {
    raw: () => raw.set('bench:raw:k0', JSON.stringify(value)),
    cachex: () => cache.set('k0', value),
  },
  'getMany 100 keys, each call other keys': {
    raw: () => raw.mGet(rawRotations[next++ % 100]).then(parseAll),
    cachex: () => cache.getMany(rotations[next++ % 100]),
  },
  'setMany 100 keys': {
    raw: () => raw.mSet(rawKeys.map((k) => [k, JSON.stringify(value)])),
    cachex: () => cache.setMany(entries),
  },
  'setMany 100 keys, raw forms its keys per call': {
    raw: () => raw.mSet(keys.map((k) => [`bench:raw:${k}`, JSON.stringify(entries[k])])),
    cachex: () => cache.setMany(entries),
  },
  'deleteMany 100 keys': {
    raw: () => raw.unlink(rawKeys),
    cachex: () => cache.deleteMany(keys),
  },
  'deleteMany 100 keys, raw forms its keys per call': {
    raw: () => raw.unlink(keys.map((k) => `bench:raw:${k}`)),
    cachex: () => cache.deleteMany(keys),
  },
}

const run = cases[name]?.[side]
if (run === undefined) throw new Error(`no case '${name}' / side '${side}'`)
await raw.mSet(rawKeys.map((k) => [k, text]))
await cache.setMany(entries)

async function calls(count) {
  let started = 0
  const worker = async () => {
    while (started < count) {
      started++
      await run()
    }
  }
  await Promise.all(Array.from({ length: 100 }, worker))
}

await calls(1000)
await calls(Number(countText))
await cache.close()
await raw.quit()
