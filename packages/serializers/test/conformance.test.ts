import { jsonSerializer } from '@cachex/core'
import { runSerializerSuite } from '@cachex/core/testing'
import { msgpackSerializer } from '../src/msgpack.ts'
import { pickleSerializer } from '../src/pickle.ts'

runSerializerSuite('json', () => jsonSerializer())
runSerializerSuite('json (pythonFormat)', () => jsonSerializer({ pythonFormat: true }), {
  nonFinite: true,
  bigint: true,
})
runSerializerSuite('msgpack', () => msgpackSerializer(), { bytes: true, bigint: 'int64' })
runSerializerSuite('pickle', () => pickleSerializer(), {
  bytes: true,
  bigint: true,
  nonFinite: true,
  negativeZero: true,
  cycles: true,
})
runSerializerSuite('pickle (protocol 2)', () => pickleSerializer({ pickleVersion: 2 }), {
  bytes: true,
  bigint: true,
  nonFinite: true,
  negativeZero: true,
  cycles: true,
})
